/**
 * CSV import and export routes:
 *   GET  /leads/import                 upload form + history
 *   POST /leads/import                 upload (multipart `file`) → 303 to the mapping screen
 *   GET  /leads/import/:id             mapping (draft) | live progress | report
 *   POST /leads/import/:id/preview     the preview with the posted mapping (htmx fragment or page); a
 *                                      changed encoding/separator re-reads the stored file first
 *   POST /leads/import/:id/start       save mapping + options, queue the job → 303 to the progress
 *                                      (a changed encoding/separator re-reads and shows the mapping)
 *   GET  /leads/import/:id/report.csv  the rows that did not create a lead, with reasons
 *   GET  /leads/export.csv             the lead list's filters as a streamed CSV
 * Another organization's import is a 404 (RLS finds nothing).
 */
import { Elysia } from 'elysia'
import leadsImportCss from '../../../public/leads-import.css' with { type: 'file' }
import leadsImportJs from '../../../public/leads-import.js' with { type: 'file' }
import {
  ImportIndexPage,
  ImportMain,
  ImportPreview,
  ImportStatusPage,
  importUrl,
  MappingPage,
  type MappingProps,
  reasonsText,
} from '../../../views/leads/import-pages'
import { withOrg } from '../../platform/db/tenancy'
import { registerAsset } from '../../platform/http/assets'
import { type AppDeps, type OrgCtx, requireOrg } from '../../platform/http/context'
import { AppError, FormError } from '../../platform/http/errors'
import { html, redirect, uiOf } from '../../platform/http/respond'
import { BOM, csvLines } from './leads.csv'
import { exportStream, parseDelimiter, parseExportQuery } from './leads.export'
import {
  changeFormat,
  createImport,
  customFieldRefs,
  type FormatChoice,
  formatChoiceOf,
  formatFromForm,
  getImport,
  type ImportSettings,
  listImports,
  MAX_UPLOAD_BYTES,
  mapRow,
  previewImport,
  reportRows,
  scanUpload,
  settingsFromForm,
  settingsOf,
  stageRefs,
  startImport,
  type TxRunner,
} from './leads.import'
import type { LeadImport } from './leads.import.table'
import { orgDefaultCountry } from './leads.normalize'

registerAsset('leads-import.css', leadsImportCss, 'text/css; charset=utf-8', { global: true })
registerAsset('leads-import.js', leadsImportJs, 'text/javascript; charset=utf-8', { global: true })

const REPORT_PAGE = 100
const MAX_MB = MAX_UPLOAD_BYTES >> 20

export function leadsImportRoutes(deps: AppDeps) {
  const { db } = deps
  const scope = (r: OrgCtx) => ({ orgId: r.org.orgId, userId: r.auth.user.id })
  const runner =
    (r: OrgCtx): TxRunner =>
    (fn) =>
      withOrg(db, scope(r), fn)
  const fragment = (r: OrgCtx, target: string) =>
    r.isHtmx &&
    r.request.headers.get('hx-boosted') !== 'true' &&
    r.request.headers.get('hx-target') === target

  async function indexPage(r: OrgCtx, error: FormError | null = null, status = 200) {
    const imports = await withOrg(db, scope(r), (tx) => listImports(tx))
    return html(r, <ImportIndexPage ui={uiOf(r)} imports={imports} maxMb={MAX_MB} error={error} />, status)
  }

  async function mappingProps(
    r: OrgCtx,
    imp: LeadImport,
    settings: ImportSettings,
    error: FormError | null = null,
    extra: { format?: FormatChoice; formatChanged?: boolean } = {},
  ): Promise<MappingProps> {
    return withOrg(db, scope(r), async (tx) => {
      const [customs, stages, country] = [
        await customFieldRefs(tx),
        await stageRefs(tx),
        await orgDefaultCountry(tx),
      ]
      const preview = await previewImport(tx, imp, settings)
      const samples = imp.headers.map(
        (_, i) => preview.map((p) => p.cells[i]?.trim() ?? '').find(Boolean) ?? '',
      )
      return {
        ui: uiOf(r),
        imp,
        settings,
        customs,
        stages,
        preview,
        samples,
        country,
        format: extra.format ?? formatChoiceOf(imp),
        formatChanged: extra.formatChanged,
        error,
      }
    })
  }

  async function statusProps(r: OrgCtx, imp: LeadImport) {
    const afterRaw = r.url.searchParams.get('after')
    const after = afterRaw && /^\d{1,9}$/.test(afterRaw) ? Number(afterRaw) : 0
    const rows = await withOrg(db, scope(r), (tx) =>
      reportRows(tx, imp.id, { after, limit: REPORT_PAGE + 1 }),
    )
    const settings = settingsOf(imp)
    const page = rows.slice(0, REPORT_PAGE)
    return {
      ui: uiOf(r),
      imp,
      rows: page.map((row) => ({
        rowNumber: row.rowNumber,
        outcome: row.outcome,
        leadId: row.leadId,
        reasons: row.reasons,
        name: mapRow(row.cells, settings, 'BR').input.fullName,
      })),
      nextAfter: rows.length > REPORT_PAGE ? page[page.length - 1]!.rowNumber : null,
    }
  }

  const loadImport = (r: OrgCtx, id: string) => withOrg(db, scope(r), (tx) => getImport(tx, id))

  /**
   * The posted encoding/separator, applied to a draft: the import as re-read (and its mapping), or a
   * 422 page with the error on the select. `changed` when the file was read again.
   */
  async function applyFormat(
    r: OrgCtx,
    imp: LeadImport,
    body: Record<string, unknown>,
    settings: ImportSettings,
  ): Promise<{ imp: LeadImport; settings: ImportSettings; changed: boolean } | { page: Response }> {
    let choice: FormatChoice | undefined
    try {
      choice = formatFromForm(body, imp)
      const next = await changeFormat(runner(r), imp, choice, settings.mapping)
      if (next === imp) return { imp, settings, changed: false }
      return { imp: next, settings: { ...settings, mapping: next.mapping }, changed: true }
    } catch (err) {
      if (!(err instanceof FormError)) throw err
      const format = choice ?? formatChoiceOf(imp)
      const shown = { ...format }
      const enc = body.encoding
      if (typeof enc === 'string' && ['auto', 'utf-8', 'windows-1252'].includes(enc))
        shown.encoding = enc as FormatChoice['encoding']
      return {
        page: await html(
          r,
          <MappingPage {...(await mappingProps(r, imp, settings, err, { format: shown }))} />,
          422,
        ),
      }
    }
  }

  return new Elysia({ name: 'leads-import-routes' })
    .get('/leads/import', async ({ request }) => indexPage(await requireOrg(deps, request)))
    .post('/leads/import', async ({ request, body }) => {
      const r = await requireOrg(deps, request)
      const file = (body as Record<string, unknown> | null)?.file
      if (!(file instanceof Blob) || (file.size === 0 && !(file as File).name))
        return indexPage(r, new FormError({ file: 'import.error.no_file' }), 422)
      try {
        const shape = await scanUpload(file)
        const imp = await withOrg(db, scope(r), (tx) =>
          createImport(
            tx,
            {
              filename: (file as File).name || 'import.csv',
              sizeBytes: file.size,
              shape,
              channel: 'ui',
              createdBy: r.auth.user.id,
            },
            file,
          ),
        )
        return redirect(r, importUrl(imp.id))
      } catch (err) {
        if (!(err instanceof FormError)) throw err
        const tooLarge = err.fields.file === 'import.error.too_large'
        return indexPage(r, err, tooLarge ? 413 : 422)
      }
    })
    .get('/leads/import/:id', async ({ request, params }) => {
      const r = await requireOrg(deps, request)
      const imp = await loadImport(r, params.id)
      if (imp.status === 'draft')
        return html(r, <MappingPage {...(await mappingProps(r, imp, settingsOf(imp)))} />)
      const props = await statusProps(r, imp)
      if (fragment(r, 'import-main')) return html(r, <ImportMain {...props} />)
      return html(r, <ImportStatusPage {...props} />)
    })
    .post('/leads/import/:id/preview', async ({ request, params, body }) => {
      const r = await requireOrg(deps, request)
      const loaded = await loadImport(r, params.id)
      if (loaded.status !== 'draft') return redirect(r, importUrl(loaded.id))
      const form = (body ?? {}) as Record<string, unknown>
      const applied = await applyFormat(r, loaded, form, settingsFromForm(form, loaded.headers.length))
      if ('page' in applied) return applied.page
      const { imp, settings, changed } = applied
      const props = await mappingProps(r, imp, settings, null, { formatChanged: changed })
      if (!changed && fragment(r, 'import-preview')) return html(r, <ImportPreview {...props} />)
      return html(r, <MappingPage {...props} />)
    })
    .post('/leads/import/:id/start', async ({ request, params, body }) => {
      const r = await requireOrg(deps, request)
      const loaded = await loadImport(r, params.id)
      const form = (body ?? {}) as Record<string, unknown>
      let imp = loaded
      let settings = settingsFromForm(form, loaded.headers.length)
      if (loaded.status === 'draft') {
        // A format changed without re-reading (no JS): read again and show the new columns first.
        const applied = await applyFormat(r, loaded, form, settings)
        if ('page' in applied) return applied.page
        if (applied.changed)
          return html(
            r,
            <MappingPage
              {...(await mappingProps(r, applied.imp, applied.settings, null, { formatChanged: true }))}
            />,
          )
        imp = applied.imp
        settings = applied.settings
      }
      try {
        await withOrg(db, scope(r), (tx) => startImport(tx, imp, settings))
      } catch (err) {
        if (!(err instanceof FormError)) throw err
        return html(r, <MappingPage {...(await mappingProps(r, imp, settings, err))} />, 422)
      }
      return redirect(r, importUrl(imp.id))
    })
    .get('/leads/import/:id/report.csv', async ({ request, params }) => {
      const r = await requireOrg(deps, request)
      const imp = await loadImport(r, params.id)
      const { t } = r
      const run = runner(r)
      const head = [
        t('import.report.col.row'),
        t('import.report.col.outcome'),
        t('import.report.col.reasons'),
        t('import.report.col.lead'),
        ...imp.headers,
      ]
      // Keyset pages of report rows, written as they are read.
      async function* lines() {
        yield BOM + csvLines([head], { delimiter: ';' })
        let after = 0
        for (;;) {
          const rows = await run((tx) => reportRows(tx, imp.id, { after, limit: 1000 }))
          if (!rows.length) return
          yield csvLines(
            rows.map((row) => [
              String(row.rowNumber + 1),
              t(`import.outcome.${row.outcome}`),
              reasonsText(t, row.reasons),
              row.leadId ?? '',
              ...row.cells,
            ]),
            { delimiter: ';' },
          )
          after = rows[rows.length - 1]!.rowNumber
          if (rows.length < 1000) return
        }
      }
      const it = lines()
      const enc = new TextEncoder()
      const stream = new ReadableStream<Uint8Array>({
        async pull(c) {
          const x = await it.next()
          if (x.done) c.close()
          else c.enqueue(enc.encode(x.value))
        },
      })
      const name = `${imp.filename.replace(/\.(csv|txt)$/i, '').replace(/[^\w.-]+/g, '_') || 'import'}-relatorio.csv`
      return new Response(stream, {
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="${name}"`,
          'cache-control': 'no-store',
          'x-request-id': r.reqId,
        },
      })
    })
    .get('/leads/export.csv', async ({ request }) => {
      const r = await requireOrg(deps, request)
      const delimiter = parseDelimiter(r.url.searchParams.get('sep'))
      if (!delimiter) throw new AppError('leads.export.separator', 400, 'import.error.separator')
      const stream = exportStream(runner(r), {
        query: parseExportQuery(r.url.searchParams),
        scope: { userId: r.auth.user.id, timezone: r.org.timezone },
        locale: r.locale,
        t: r.t,
        delimiter,
      })
      const day = new Date().toISOString().slice(0, 10)
      return new Response(stream, {
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="leads-${day}.csv"`,
          'cache-control': 'no-store',
          'x-request-id': r.reqId,
        },
      })
    })
}
