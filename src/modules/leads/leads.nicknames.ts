/**
 * Brazilian given names and the short forms people use for them in forms, WhatsApp profiles and
 * spreadsheets ("Zé" for José, "Bia" for Beatriz, "Paulinho" for Paulo), for the name matcher and
 * the name blocking arm. Folded (no accents, lower case), as name keys are.
 *
 * Two sources: a table of common hypocorisms (apelidos) and the diminutive rule of Portuguese
 * (-inho/-inha, -zinho/-zinha: "Paulinho" = Paulo, "Ritinha" = Rita, "Joãozinho" = João).
 * A nickname shared by several names ("Dani": Daniel, Daniela) points at all of them.
 */
const TABLE: Record<string, string[]> = {
  adriana: ['dri', 'drica'],
  alberto: ['beto'],
  alessandra: ['ale'],
  alexandre: ['ale', 'xande'],
  amanda: ['manda', 'mandinha'],
  andre: ['dede'],
  antonio: ['tonho', 'toninho', 'toni', 'tony', 'tonico'],
  aparecida: ['cida'],
  beatriz: ['bia'],
  benedito: ['dito'],
  bruna: ['bru'],
  camila: ['cami', 'mila'],
  carlos: ['carlinhos', 'caca'],
  carolina: ['carol'],
  cecilia: ['ceci'],
  claudia: ['clau'],
  claudio: ['clau'],
  conceicao: ['ceica', 'ceicao'],
  cristina: ['cris', 'tina'],
  daniel: ['dani'],
  daniela: ['dani'],
  debora: ['debi', 'debinha'],
  eduardo: ['edu', 'dudu'],
  fabiana: ['fabi'],
  felipe: ['lipe'],
  fernanda: ['nanda', 'fe'],
  fernando: ['nando', 'fe'],
  francisco: ['chico', 'chiquinho', 'xico'],
  gabriel: ['gabi', 'biel'],
  gabriela: ['gabi'],
  gisele: ['gi'],
  guilherme: ['gui'],
  gustavo: ['guga', 'gus'],
  helena: ['lena', 'leninha'],
  henrique: ['rique', 'henri'],
  isabel: ['bel', 'isa'],
  isabela: ['bela', 'isa', 'bebel'],
  jose: ['ze', 'zeca', 'zezinho', 'zezim'],
  joaquim: ['quim'],
  juliana: ['ju', 'juju'],
  larissa: ['lari'],
  leonardo: ['leo'],
  leticia: ['leti'],
  luciana: ['lu'],
  lucia: ['lu'],
  luana: ['lu'],
  manoel: ['mane', 'neco'],
  manuel: ['mane', 'neco'],
  marcos: ['marquinhos'],
  mariana: ['mari'],
  mateus: ['teteu'],
  matheus: ['teteu'],
  natalia: ['nat', 'nati'],
  patricia: ['paty', 'pati'],
  priscila: ['pri'],
  rafael: ['rafa'],
  rafaela: ['rafa'],
  raimundo: ['mundinho', 'mundico'],
  raquel: ['quel'],
  ricardo: ['rica', 'cadu'],
  roberta: ['beta'],
  roberto: ['beto'],
  rodrigo: ['digo'],
  sebastiao: ['tiao'],
  tatiane: ['tati'],
  teresa: ['tete'],
  tereza: ['tete'],
  valeria: ['val'],
  vanessa: ['van', 'nessa'],
  vinicius: ['vini'],
  vitoria: ['vivi', 'vic'],
}

const NAMES_OF = new Map<string, Set<string>>()
for (const [name, nicks] of Object.entries(TABLE))
  for (const nick of nicks) NAMES_OF.set(nick, (NAMES_OF.get(nick) ?? new Set()).add(name))

/**
 * The given names a diminutive may come from: paulinho → paulo, ritinha → rita, carlinhos → carlos,
 * luquinhas → lucas,
 * joaozinho → joao, luizinho → luiz (the -z- is the suffix's or the name's own).
 */
function undiminish(token: string): string[] {
  const m = /^(.{2,}?)(z?)inh([oa])(s?)$/.exec(token)
  if (!m) return []
  if (m[2]) return [m[1]!, `${m[1]}z`]
  // The spelling keeps the sound before the i: luquinhas → lucas, dieguinho → diego.
  const stem = m[1]!.replace(/qu$/, 'c').replace(/gu$/, 'g')
  return [...new Set([`${m[1]}${m[3]}${m[4]}`, `${stem}${m[3]}${m[4]}`])]
}

/** The formal names a token may stand for (itself excluded): "bia" → [beatriz]. */
export function formalNames(token: string): string[] {
  const out = new Set([...(NAMES_OF.get(token) ?? []), ...undiminish(token)])
  out.delete(token)
  return [...out]
}

/** Every spelling that may name the same person as `token`: itself, its formal names, their nicknames. */
export function givenNameVariants(token: string): string[] {
  const out = new Set([token, ...formalNames(token), ...(TABLE[token] ?? [])])
  for (const f of formalNames(token)) for (const n of TABLE[f] ?? []) out.add(n)
  return [...out]
}

/** "Zé" and "José", "Paulinho" and "Paulo": one is a known short form of the other. */
export function isNicknameOf(a: string, b: string): boolean {
  if (a === b) return false
  return formalNames(a).includes(b) || formalNames(b).includes(a) || sharesFormal(a, b)
}

/** "Paulinho" and "Paulo" via the stem, or two nicknames of one name ("Zeca" and "Zé"). */
function sharesFormal(a: string, b: string): boolean {
  const fa = formalNames(a)
  return fa.length > 0 && formalNames(b).some((f) => fa.includes(f))
}
