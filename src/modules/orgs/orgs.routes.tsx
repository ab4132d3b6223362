import { and, desc, eq, isNull } from 'drizzle-orm'
import { Elysia } from 'elysia'
import { emptyForm, type FormState } from '../../../views/components/form'
import { DashboardPage } from '../../../views/orgs/dashboard-page'
import { InvitePage } from '../../../views/orgs/invite-page'
import { OutboxPage } from '../../../views/orgs/outbox-page'
import {
  AuditPage,
  MembersPage,
  NewOrgPage,
  OrgSettingsPage,
  ProfilePage,
} from '../../../views/orgs/settings-pages'
import { withOrg, withSystem } from '../../platform/db/tenancy'
import {
  type AppDeps,
  type OrgCtx,
  reqCtx,
  requireOrg,
  requireUser,
  sessionCookie,
  setFlash,
} from '../../platform/http/context'
import { AppError, Check, forbidden, notFound } from '../../platform/http/errors'
import { field, fields, html, redirect, uiOf, withForm } from '../../platform/http/respond'
import { mailOutbox } from '../../platform/mail/mail.table'
import { nextCursor, parseCursor } from '../../shared/cursor'
import { isLocale, type Locale, resolveLocale, translator } from '../../shared/i18n'
import { isUuid } from '../../shared/ids'
import { createSession, switchOrganization } from '../auth/auth.sessions'
import { users } from '../auth/auth.table'
import { changePassword, checkName, checkPassword, hashPassword } from '../auth/auth.usecases'
import { listAudit } from './orgs.audit'
import {
  acceptInvitation,
  changeRole,
  createOrganization,
  dashboardStats,
  findInvitation,
  getOrganization,
  invite,
  listMembers,
  listPendingInvitations,
  memberAvailable,
  removeMember,
  revokeInvitation,
  updateOrganization,
} from './orgs.usecases'

const TIMEZONES = ['UTC', ...Intl.supportedValuesOf('timeZone')]
const ORG_FIELDS = ['name', 'slug', 'displayName', 'logoUrl', 'primaryColor', 'locale', 'timezone']

export function orgRoutes(deps: AppDeps) {
  const { db, config, mailer } = deps
  const scope = (r: OrgCtx) => ({ orgId: r.org.orgId, userId: r.auth.user.id })

  async function membersPage(r: OrgCtx, form: FormState, status = 200, newLink?: string) {
    const data = await withOrg(db, scope(r), async (tx) => ({
      members: await listMembers(tx),
      pending: r.org.role === 'member' ? [] : await listPendingInvitations(tx),
    }))
    return html(r, <MembersPage ui={uiOf(r)} {...data} form={form} newLink={newLink} />, status)
  }

  async function profilePage(
    r: OrgCtx | Awaited<ReturnType<typeof requireUser>>,
    form?: FormState,
    passwordForm?: FormState,
    status = 200,
  ) {
    // Whether new leads are assigned to me in the active organization (the Leads assignment rules
    // skip members who are away); null without an organization.
    const org = r.auth.org
    const available = org
      ? await withOrg(db, { orgId: org.orgId, userId: r.auth.user.id }, (tx) =>
          memberAvailable(tx, r.auth.user.id),
        )
      : null
    return html(
      r,
      <ProfilePage
        ui={uiOf(r)}
        form={form ?? emptyForm({ name: r.auth.user.name, locale: r.auth.user.locale ?? '' })}
        passwordForm={passwordForm ?? emptyForm()}
        available={available}
      />,
      status,
    )
  }

  return (
    new Elysia({ name: 'orgs.routes' })
      .get('/dashboard', async ({ request }) => {
        const r = await requireOrg(deps, request)
        const data = await withOrg(db, scope(r), async (tx) => {
          const org = await getOrganization(tx)
          return {
            stats: await dashboardStats(tx),
            branded: !!(org.displayName || org.logoUrl || org.primaryColor),
            recent: r.org.role === 'member' ? [] : (await listAudit(tx)).rows.slice(0, 6),
          }
        })
        return html(r, <DashboardPage ui={uiOf(r)} {...data} />)
      })
      // Organizations ---------------------------------------------------------------------------
      .get('/orgs/new', async ({ request }) => {
        const r = await requireUser(deps, request)
        return html(r, <NewOrgPage ui={uiOf(r)} form={emptyForm()} />)
      })
      .post('/orgs', async ({ request, body }) => {
        const r = await requireUser(deps, request)
        const name = field(body, 'name')
        const res = await withForm(
          () => createOrganization(db, { name, ownerId: r.auth.user.id, locale: r.locale, ip: r.ip }),
          async (e) => html(r, <NewOrgPage ui={uiOf(r)} form={{ values: { name }, errors: e }} />, 422),
        )
        if (!res.ok) return res.response
        await switchOrganization(db, r.auth.sessionId, r.auth.user.id, res.value.id)
        setFlash(r, 'success', r.t('org.created', { org: res.value.name }))
        return redirect(r, '/dashboard')
      })
      .post('/session/org', async ({ request, body }) => {
        const r = await requireUser(deps, request)
        const orgId = field(body, 'orgId')
        const target = isUuid(orgId)
          ? await switchOrganization(db, r.auth.sessionId, r.auth.user.id, orgId)
          : null
        if (!target) throw notFound()
        // Open sockets were subscribed to the previous organization: they reconnect into the new one.
        deps.realtime?.disconnect({ sessionId: r.auth.sessionId })
        setFlash(r, 'info', r.t('org.switched', { org: target.displayName || target.name }))
        return redirect(r, '/dashboard')
      })
      // Organization settings -------------------------------------------------------------------
      .get('/settings', async ({ request }) => {
        const r = await requireOrg(deps, request)
        return redirect(r, r.org.role === 'member' ? '/settings/members' : '/settings/organization')
      })
      .get('/settings/organization', async ({ request }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        const org = await withOrg(db, scope(r), getOrganization)
        const values = {
          name: org.name,
          slug: org.slug,
          displayName: org.displayName ?? '',
          logoUrl: org.logoUrl ?? '',
          primaryColor: org.primaryColor ?? '',
          locale: org.locale,
          timezone: org.timezone,
        }
        return html(r, <OrgSettingsPage ui={uiOf(r)} form={emptyForm(values)} timezones={TIMEZONES} />)
      })
      .post('/settings/organization', async ({ request, body }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        const v = fields(body, ORG_FIELDS)
        const res = await withForm(
          () => updateOrganization(db, r.actor, v as never),
          async (e) =>
            html(
              r,
              <OrgSettingsPage ui={uiOf(r)} form={{ values: v, errors: e }} timezones={TIMEZONES} />,
              422,
            ),
        )
        if (!res.ok) return res.response
        // Say it in the language the next page will use.
        const t = translator(
          resolveLocale(r.auth.user.locale, v.locale, request.headers.get('accept-language')),
        )
        setFlash(r, 'success', t('settings.saved'))
        return redirect(r, '/settings/organization')
      })
      // Members and invitations -----------------------------------------------------------------
      .get('/settings/members', async ({ request }) => {
        const r = await requireOrg(deps, request)
        return membersPage(r, emptyForm({ role: 'member' }))
      })
      .post('/settings/members/invite', async ({ request, body }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        const v = fields(body, ['email', 'role'])
        const res = await withForm(
          () =>
            invite(
              db,
              mailer,
              r.actor,
              { email: v.email!, role: v.role! },
              {
                baseUrl: config.baseUrl,
                instanceName: config.instanceName,
                orgName: r.org.displayName || r.org.name,
                inviterName: r.auth.user.name,
                locale: (isLocale(r.org.locale) ? r.org.locale : r.locale) as Locale,
              },
            ),
          async (e) => membersPage(r, { values: v, errors: e }, 422),
        )
        if (!res.ok) return res.response
        return membersPage(r, emptyForm({ role: 'member', sentTo: res.value.email }), 200, res.value.link)
      })
      .post('/settings/members/:userId/role', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.userId)) throw notFound()
        const m = await changeRole(db, r.actor, params.userId, field(body, 'role'))
        setFlash(r, 'success', r.t('members.role_changed', { name: m.name, role: r.t(`org.role.${m.role}`) }))
        return redirect(r, '/settings/members')
      })
      .post('/settings/members/:userId/remove', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.userId)) throw notFound()
        const m = await removeMember(db, r.actor, params.userId)
        deps.realtime?.disconnect({ userId: params.userId, orgId: r.org.orgId })
        if (params.userId === r.auth.user.id) {
          setFlash(r, 'info', r.t('members.left', { org: r.org.displayName || r.org.name }))
          return redirect(r, '/dashboard')
        }
        setFlash(r, 'success', r.t('members.removed', { name: m.name }))
        return redirect(r, '/settings/members')
      })
      .post('/settings/invitations/:id/revoke', async ({ request, params }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        if (!isUuid(params.id)) throw notFound()
        await revokeInvitation(db, r.actor, params.id)
        setFlash(r, 'success', r.t('members.revoked'))
        return redirect(r, '/settings/members')
      })
      .get('/settings/audit', async ({ request, query }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        const { rows, more } = await withOrg(db, scope(r), (tx) => listAudit(tx, parseCursor(query.before)))
        return html(r, <AuditPage ui={uiOf(r)} rows={rows} nextCursor={nextCursor(rows, more)} />)
      })
      // Profile (the user's own, not tenant data) -----------------------------------------------
      .get('/settings/profile', async ({ request }) => {
        const r = await requireUser(deps, request)
        return profilePage(r)
      })
      .post('/settings/profile', async ({ request, body }) => {
        const r = await requireUser(deps, request)
        const v = fields(body, ['name', 'locale'])
        const res = await withForm(
          async () => {
            const check = new Check()
            checkName(check, 'name', v.name!.trim())
            if (v.locale && !isLocale(v.locale)) check.add('locale', 'error.locale')
            check.throwIfAny()
            await withSystem(db, (tx) =>
              tx
                .update(users)
                .set({ name: v.name!.trim(), locale: v.locale || null, updatedAt: new Date() })
                .where(eq(users.id, r.auth.user.id)),
            )
          },
          async (e) => profilePage(r, { values: v, errors: e }, undefined, 422),
        )
        if (!res.ok) return res.response
        const t = translator(
          resolveLocale(v.locale, r.auth.org?.locale, request.headers.get('accept-language')),
        )
        setFlash(r, 'success', t('settings.saved'))
        return redirect(r, '/settings/profile')
      })
      .post('/settings/password', async ({ request, body }) => {
        const r = await requireUser(deps, request)
        const v = fields(body, ['current', 'password'])
        const res = await withForm(
          () =>
            changePassword(db, {
              userId: r.auth.user.id,
              sessionId: r.auth.sessionId,
              orgId: r.auth.org?.orgId ?? null,
              current: v.current!,
              password: v.password!,
              ip: r.ip,
            }),
          async (e) => profilePage(r, undefined, { values: {}, errors: e }, 422),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('profile.password_changed'))
        return redirect(r, '/settings/profile')
      })
      // Invitations by link ---------------------------------------------------------------------
      .get('/invite/:token', async ({ request, params }) => {
        const r = await reqCtx(deps, request)
        const inv = await findInvitation(db, params.token)
        if (!inv)
          return html(
            r,
            <InvitePage ui={uiOf(r)} inv={null} token={params.token} mode="signup" form={emptyForm()} />,
            410,
          )
        const mode = r.auth
          ? r.auth.user.email === inv.email
            ? 'accept'
            : 'wrong-account'
          : (await userExists(inv.email))
            ? 'login'
            : 'signup'
        return html(
          r,
          <InvitePage ui={uiOf(r)} inv={inv} token={params.token} mode={mode} form={emptyForm()} />,
        )
      })
      .post('/invite/:token', async ({ request, params, body }) => {
        const r = await reqCtx(deps, request)
        const inv = await findInvitation(db, params.token)
        if (!inv)
          return html(
            r,
            <InvitePage ui={uiOf(r)} inv={null} token={params.token} mode="signup" form={emptyForm()} />,
            410,
          )
        let user: { id: string; email: string }
        if (r.auth) {
          user = r.auth.user
        } else {
          if (await userExists(inv.email))
            throw new AppError('invite.login_required', 409, 'invite.have_account')
          // New account for the invited email: the invitation proves the address.
          const v = fields(body, ['name', 'password'])
          const res = await withForm(
            async () => {
              const check = new Check()
              checkName(check, 'name', v.name!.trim())
              checkPassword(check, 'password', v.password!)
              check.throwIfAny()
              const passwordHash = await hashPassword(v.password!)
              return withSystem(db, async (tx) => {
                const [u] = await tx
                  .insert(users)
                  .values({ email: inv.email, name: v.name!.trim(), passwordHash })
                  .onConflictDoNothing()
                  .returning({ id: users.id, email: users.email })
                if (!u) new Check().add('name', 'error.email_taken').throwIfAny()
                return u!
              })
            },
            async (e) =>
              html(
                r,
                <InvitePage
                  ui={uiOf(r)}
                  inv={inv}
                  token={params.token}
                  mode="signup"
                  form={{ values: v, errors: e }}
                />,
                422,
              ),
          )
          if (!res.ok) return res.response
          user = res.value
          const s = await createSession(db, {
            userId: user.id,
            orgId: inv.orgId,
            remember: true,
            ip: r.ip,
            userAgent: request.headers.get('user-agent'),
          })
          r.cookies.push(sessionCookie(config, s.token, s.expiresAt))
        }
        await acceptInvitation(db, inv, user, r.ip)
        if (r.auth) await switchOrganization(db, r.auth.sessionId, user.id, inv.orgId)
        setFlash(r, 'success', r.t('invite.accepted', { org: inv.orgDisplayName || inv.orgName }))
        return redirect(r, '/dashboard')
      })
      // Development outbox: emails kept when SMTP is not configured (instance admins only) --------
      .get('/dev/outbox', async ({ request }) => {
        const r = await requireUser(deps, request)
        if (mailer.configured || !r.auth.user.isInstanceAdmin) throw forbidden()
        const mails = await withSystem(db, (tx) =>
          tx
            .select()
            .from(mailOutbox)
            .where(and(isNull(mailOutbox.sentAt)))
            .orderBy(desc(mailOutbox.createdAt))
            .limit(50),
        )
        return html(r, <OutboxPage ui={uiOf(r)} mails={mails} />)
      })
  )

  async function userExists(email: string) {
    const [u] = await withSystem(db, (tx) =>
      tx.select({ id: users.id }).from(users).where(eq(users.email, email)),
    )
    return !!u
  }
}
