/**
 * A labeled, deterministic set of messy Brazilian leads for the deduplication benchmark and tests.
 *
 * `generateDedupSet({ seed, people })` makes people (each with a ground-truth `personId`) and then one
 * to four lead records per person, the way they reach a CRM from forms, spreadsheets and WhatsApp:
 *   - names with and without accents, in upper/lower case, with typos (swapped, dropped, doubled or
 *     replaced letters), in "Surname, First" order, with or without particles (da, dos) and middle
 *     names, a middle name as an initial ("Maria A. Silva"), the nickname someone goes by ("Zé",
 *     "Bia", "Paulinho"), sometimes only the first name;
 *   - phones with or without +55 / 0, punctuated or not, with or without the ninth digit, or missing;
 *     some people change numbers;
 *   - emails in other case, with Gmail dots or +tags, or missing; some people use a second address;
 *   - companies with other legal suffixes or case, or missing;
 *   - and the hard negatives: many different people share the commonest names (Maria Silva, José
 *     Santos, Ana Oliveira...) with their own phones and emails; relatives share a landline; couples
 *     share a family email.
 * The same seed always gives the same records (mulberry32), so numbers are comparable between runs.
 */

export interface DedupRecord {
  /** Ground truth: records of the same person share it. */
  personId: number
  fullName: string
  email: string | null
  phone: string | null
  company: string | null
  jobTitle: string | null
  source: string
}

function mulberry32(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const FIRST = [
  'Maria',
  'José',
  'João',
  'Ana',
  'Antônio',
  'Francisco',
  'Carlos',
  'Paulo',
  'Pedro',
  'Lucas',
  'Luiz',
  'Marcos',
  'Luís',
  'Gabriel',
  'Rafael',
  'Daniel',
  'Marcelo',
  'Bruno',
  'Eduardo',
  'Felipe',
  'Raimundo',
  'Rodrigo',
  'Manoel',
  'Mateus',
  'André',
  'Fernando',
  'Fábio',
  'Leonardo',
  'Gustavo',
  'Guilherme',
  'Márcio',
  'Tiago',
  'Sérgio',
  'Cláudio',
  'Juliana',
  'Adriana',
  'Márcia',
  'Fernanda',
  'Patrícia',
  'Aline',
  'Sandra',
  'Camila',
  'Amanda',
  'Bruna',
  'Jéssica',
  'Letícia',
  'Júlia',
  'Luciana',
  'Vanessa',
  'Mariana',
  'Gabriela',
  'Vera',
  'Vitória',
  'Larissa',
  'Cláudia',
  'Beatriz',
  'Luana',
  'Rita',
  'Sônia',
  'Renata',
  'Eliane',
  'Conceição',
  'Lúcia',
  'Regina',
  'Simone',
  'Débora',
  'Natália',
  'Tatiane',
  'Carla',
  'Raquel',
  'Cristina',
  'Flávia',
  'Thaís',
  'Priscila',
  'Sebastião',
  'Joaquim',
  'Otávio',
  'Caio',
  'Vinícius',
  'Heitor',
  'Benedito',
  'Irene',
  'Gisele',
  'Helena',
  'Cecília',
  'Estêvão',
  'Inês',
  'Valéria',
  'Rogério',
]
const MIDDLE = [
  'Aparecida',
  'Cristina',
  'Eduardo',
  'Henrique',
  'Luiz',
  'Paula',
  'Clara',
  'Fernanda',
  'Augusto',
  'Antônio',
  'Carolina',
  'Vitória',
  'José',
  'Helena',
  'Gabriel',
  'Luísa',
]
const SURNAMES = [
  'Silva',
  'Santos',
  'Oliveira',
  'Souza',
  'Rodrigues',
  'Ferreira',
  'Alves',
  'Pereira',
  'Lima',
  'Gomes',
  'Costa',
  'Ribeiro',
  'Martins',
  'Carvalho',
  'Almeida',
  'Lopes',
  'Soares',
  'Fernandes',
  'Vieira',
  'Barbosa',
  'Rocha',
  'Dias',
  'Nascimento',
  'Andrade',
  'Moreira',
  'Nunes',
  'Marques',
  'Machado',
  'Mendes',
  'Freitas',
  'Cardoso',
  'Ramos',
  'Gonçalves',
  'Santana',
  'Teixeira',
  'Araújo',
  'Magalhães',
  'Brandão',
  'Guimarães',
  'Assunção',
  'Conceição',
  'Figueiredo',
  'Queiroz',
  'Sampaio',
  'Batista',
  'Peixoto',
]
// Different people with these exact names (the classic false-merge trap).
const COMMON = [
  'Maria Silva',
  'José Santos',
  'Ana Oliveira',
  'João Souza',
  'Francisco Pereira',
  'Maria Santos',
]
// The short forms people go by (WhatsApp profiles, Instagram, a salesperson's notes).
const NICKNAMES: Record<string, string[]> = {
  José: ['Zé', 'Zeca'],
  Francisco: ['Chico'],
  Antônio: ['Toninho', 'Tonho'],
  Beatriz: ['Bia'],
  Gabriela: ['Gabi'],
  Gabriel: ['Biel'],
  Rafael: ['Rafa'],
  Fernanda: ['Nanda'],
  Eduardo: ['Edu', 'Dudu'],
  Guilherme: ['Gui'],
  Daniel: ['Dani'],
  Patrícia: ['Paty'],
  Juliana: ['Ju'],
  Mariana: ['Mari'],
  Vinícius: ['Vini'],
  Leonardo: ['Léo'],
  Sebastião: ['Tião'],
  Conceição: ['Ceiça'],
  Vitória: ['Vivi'],
  Larissa: ['Lari'],
  Paulo: ['Paulinho'],
  Pedro: ['Pedrinho'],
  Rita: ['Ritinha'],
  Lucas: ['Luquinhas'],
  Marcos: ['Marquinhos'],
  Luiz: ['Luizinho'],
  Carlos: ['Carlinhos'],
  Raimundo: ['Mundinho'],
  Benedito: ['Dito'],
  Manoel: ['Mané'],
  Cláudia: ['Claudinha'],
  Fábio: ['Fabinho'],
  Camila: ['Mila'],
  Carla: ['Carlinha'],
  Gustavo: ['Guga'],
  Thaís: ['Tatá'],
  Luciana: ['Lu'],
  Joaquim: ['Quim'],
  Helena: ['Lena'],
  Natália: ['Nati'],
  Tatiane: ['Tati'],
  Priscila: ['Pri'],
  Vanessa: ['Nessa'],
  Valéria: ['Val'],
  Cecília: ['Ceci'],
  Adriana: ['Drica'],
  Felipe: ['Lipe'],
}
const PARTICLE_OF: Record<string, string> = {
  Silva: 'da',
  Santos: 'dos',
  Souza: 'de',
  Oliveira: 'de',
  Costa: 'da',
  Conceição: 'da',
  Nascimento: 'do',
  Assunção: 'da',
  Rocha: 'da',
  Ramos: 'dos',
  Anjos: 'dos',
}
const COMPANIES = [
  'Padaria Pão Quente',
  'Construtora Horizonte',
  'Tech Sul Sistemas',
  'Agropecuária Boa Vista',
  'Clínica Sorriso',
  'Mercado Bom Preço',
  'Transportes Rápido',
  'Imobiliária Central',
  'Escola Saber',
  'Auto Peças Brasil',
  'Farmácia Vida',
  'Studio Bella',
  'Contabilidade Exata',
  'Metalúrgica União',
  'Academia Corpo Livre',
  'Pousada Maré Alta',
  'Gráfica Criativa',
  'Ótica Visão',
  'Café do Ponto',
  'Distribuidora Norte',
  'Advocacia Reis',
  'Oficina do Zé',
  'Laticínios Serra',
  'Buffet Alegria',
]
const SUFFIXES = ['Ltda', 'LTDA', 'Ltda.', 'ME', 'S.A.', 'EIRELI', '']
const TITLES = ['Gerente', 'Diretora', 'Sócio', 'Comprador', 'Analista', 'Proprietária', 'Coordenador', null]
const DDDS = ['11', '21', '31', '41', '51', '61', '71', '81', '85', '19', '27', '47', '62', '91', '92']
const FREE_MAIL = [
  'gmail.com',
  'gmail.com',
  'gmail.com',
  'hotmail.com',
  'outlook.com',
  'yahoo.com.br',
  'uol.com.br',
  'bol.com.br',
]
const SOURCES = ['site', 'instagram', 'indicação', 'feira', 'planilha', 'whatsapp']

const strip = (s: string) => s.normalize('NFD').replace(/\p{M}+/gu, '')
const slug = (s: string) =>
  strip(s)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '')

interface Person {
  id: number
  first: string
  middle: string | null
  surnames: string[]
  /** national digits: DDD + number */
  phone: string | null
  phone2: string | null
  email: string | null
  email2: string | null
  company: string | null
  jobTitle: string | null
}

export function generateDedupSet(opts: { seed: number; people: number }): DedupRecord[] {
  const rnd = mulberry32(opts.seed)
  const alt = mulberry32(opts.seed ^ 0x5bd1e995)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const chance = (p: number) => rnd() < p
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('')
  const mobile = () => `${pick(DDDS)}9${pick(['6', '7', '8', '9'])}${digits(7)}`
  const landline = () => `${pick(DDDS)}${pick(['2', '3', '4', '5'])}${digits(7)}`
  const usedPhones = new Set<string>()
  const uniquePhone = (make: () => string) => {
    for (;;) {
      const p = make()
      if (!usedPhones.has(p)) {
        usedPhones.add(p)
        return p
      }
    }
  }
  const usedEmails = new Set<string>()
  const emailFor = (first: string, surnames: string[], company: string | null) => {
    const f = slug(first)
    const l = slug(surnames.at(-1)!)
    const domain = company && chance(0.3) ? `${slug(company.split(' ')[0]!)}.com.br` : pick(FREE_MAIL)
    for (let n = 0; ; n++) {
      const local = pick([
        `${f}.${l}`,
        `${f}${l}`,
        `${f}_${l}`,
        `${f[0]}${l}`,
        `${f}.${l}${digits(2)}`,
        `${f}${digits(3)}`,
      ])
      const e = `${local}${n ? n : ''}@${domain}`
      // Gmail ignores dots: "maria.silva@" and "mariasilva@" are one mailbox, so one person.
      const mailbox = domain === 'gmail.com' ? e.replace(/\.(?=[^@]*@)/g, '') : e
      if (!usedEmails.has(mailbox)) {
        usedEmails.add(mailbox)
        return e
      }
    }
  }

  const people: Person[] = []
  const newPerson = (over: Partial<Person> = {}): Person => {
    let first = pick(FIRST)
    let surnames = chance(0.45) ? [pick(SURNAMES), pick(SURNAMES)] : [pick(SURNAMES)]
    let middle: string | null = chance(0.3) ? pick(MIDDLE) : null
    if (chance(0.16)) {
      const [f, s] = pick(COMMON).split(' ') as [string, string]
      first = f
      surnames = [s]
      middle = null
    }
    if (surnames[0] === surnames[1]) surnames = [surnames[0]!]
    const company = chance(0.6) ? `${pick(COMPANIES)} ${pick(SUFFIXES)}`.trim() : null
    const p: Person = {
      id: people.length + 1,
      first,
      middle,
      surnames,
      phone: chance(0.88) ? uniquePhone(mobile) : null,
      phone2: null,
      email: chance(0.82) ? emailFor(first, surnames, company) : null,
      email2: null,
      company,
      jobTitle: pick(TITLES),
      ...over,
    }
    if (chance(0.1)) p.phone2 = uniquePhone(mobile)
    if (chance(0.1)) p.email2 = emailFor(first, surnames, null)
    people.push(p)
    return p
  }
  for (let i = 0; i < opts.people; i++) {
    const p = newPerson()
    // A relative on the same landline (same surname, another first name).
    if (chance(0.05)) {
      const line = uniquePhone(landline)
      p.phone = line
      newPerson({ surnames: p.surnames, phone: line, first: pick(FIRST.filter((f) => f !== p.first)) })
    }
    // A couple sharing a family email.
    if (chance(0.03) && p.email) {
      newPerson({
        email: p.email,
        surnames: [pick(SURNAMES)],
        first: pick(FIRST.filter((f) => f !== p.first)),
      })
    }
  }

  const typo = (w: string) => {
    if (w.length < 4) return w
    const i = 1 + Math.floor(rnd() * (w.length - 2))
    switch (Math.floor(rnd() * 4)) {
      case 0:
        return w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2)
      case 1:
        return w.slice(0, i) + w.slice(i + 1)
      case 2:
        return w.slice(0, i) + w[i] + w.slice(i)
      default:
        return w.slice(0, i) + pick(['a', 'e', 'i', 'o', 'n', 'r', 's']) + w.slice(i + 1)
    }
  }
  const nameOf = (p: Person) => {
    // Variants drawn from their own stream, so every other draw stays what it was before they existed.
    const nick = NICKNAMES[p.first]
    let first = nick && alt() < 0.07 ? nick[Math.floor(alt() * nick.length)]! : p.first
    let middle = chance(0.6) ? p.middle : null
    if (middle && alt() < 0.25) middle = `${middle[0]}.`
    let surnames = [...p.surnames]
    if (surnames.length > 1 && chance(0.2)) surnames = [surnames.at(-1)!]
    if (chance(0.03)) return first
    const withParticle = surnames.map((s) => (PARTICLE_OF[s] && chance(0.35) ? `${PARTICLE_OF[s]} ${s}` : s))
    if (chance(0.12)) {
      const parts = [first, ...(middle ? [middle] : []), ...surnames]
      const j = Math.floor(rnd() * parts.length)
      parts[j] = typo(parts[j]!)
      ;[first, ...surnames] = [parts[0]!, ...parts.slice(middle ? 2 : 1)]
      if (middle) middle = parts[1]!
    }
    let name = chance(0.08)
      ? `${withParticle.join(' ')}${chance(0.5) ? ',' : ''} ${first}${middle ? ` ${middle}` : ''}`
      : [first, middle, ...withParticle].filter(Boolean).join(' ')
    if (chance(0.3)) name = strip(name)
    // (the second draw only happens when the first fails: the same random sequence as before)
    const upper = chance(0.08)
    const lower = !upper && chance(0.08)
    if (upper) name = name.toUpperCase()
    else if (lower) name = name.toLowerCase()
    return name
  }
  const phoneOf = (national: string) => {
    const ddd = national.slice(0, 2)
    let num = national.slice(2)
    if (num.length === 9 && chance(0.15)) num = num.slice(1) // before the ninth digit
    const a = num.slice(0, num.length - 4)
    const b = num.slice(-4)
    return pick([
      `(${ddd}) ${a}-${b}`,
      `${ddd}${num}`,
      `+55 ${ddd} ${a}-${b}`,
      `+55 (${ddd}) ${num.length === 9 ? `${num[0]} ${a.slice(1)}` : a}-${b}`,
      `0${ddd} ${a} ${b}`,
      `55${ddd}${num}`,
      `${ddd} ${a}.${b}`,
    ])
  }
  const emailOf = (e: string) => {
    let [local, domain] = e.split('@') as [string, string]
    if (domain === 'gmail.com' && chance(0.25)) {
      local = local.includes('.') ? local.replaceAll('.', '') : `${local.slice(0, 3)}.${local.slice(3)}`
    }
    if (['gmail.com', 'hotmail.com', 'outlook.com'].includes(domain) && chance(0.15))
      local = `${local}+${pick(['crm', 'promo', 'site', 'news'])}`
    let out = `${local}@${domain}`
    if (chance(0.15)) out = out.toUpperCase()
    else if (chance(0.1)) out = out[0]!.toUpperCase() + out.slice(1)
    if (chance(0.05)) out = ` ${out} `
    return out
  }
  const companyOf = (c: string) => {
    let base = c.replace(/ (Ltda\.?|LTDA|ME|S\.A\.|EIRELI)$/, '')
    if (chance(0.3)) base = `${base} ${pick(SUFFIXES)}`.trim()
    else base = c
    if (chance(0.1)) base = base.toUpperCase()
    if (chance(0.15)) base = strip(base)
    return base
  }

  const records: DedupRecord[] = []
  for (const p of people) {
    const r = rnd()
    const n = r < 0.55 ? 1 : r < 0.8 ? 2 : r < 0.93 ? 3 : 4
    for (let k = 0; k < n; k++) {
      const phones = [p.phone, p.phone2].filter(Boolean) as string[]
      const emails = [p.email, p.email2].filter(Boolean) as string[]
      let phone =
        phones.length && chance(0.78)
          ? phoneOf(k > 0 && p.phone2 && chance(0.5) ? p.phone2 : phones[0]!)
          : null
      let email =
        emails.length && chance(0.75)
          ? emailOf(k > 0 && p.email2 && chance(0.5) ? p.email2 : emails[0]!)
          : null
      // Forms ask for a way to reach you: mostly one of the two is there (3% have neither).
      if (!phone && !email && !chance(0.03)) {
        if (phones.length) phone = phoneOf(phones[0]!)
        else if (emails.length) email = emailOf(emails[0]!)
      }
      records.push({
        personId: p.id,
        fullName: nameOf(p),
        email,
        phone,
        company: p.company && chance(0.65) ? companyOf(p.company) : null,
        jobTitle: chance(0.5) ? p.jobTitle : null,
        source: pick(SOURCES),
      })
    }
  }
  // Arrival order is random (deterministic).
  for (let i = records.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[records[i], records[j]] = [records[j]!, records[i]!]
  }
  return records
}

/** Pairs of records (by index) that are the same person. */
export function truePairs(records: DedupRecord[]): Set<string> {
  const out = new Set<string>()
  for (let i = 0; i < records.length; i++)
    for (let j = i + 1; j < records.length; j++)
      if (records[i]!.personId === records[j]!.personId) out.add(`${i}:${j}`)
  return out
}
