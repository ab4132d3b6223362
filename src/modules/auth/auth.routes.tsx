import { Elysia } from 'elysia'
import { ForgotPasswordPage, LoginPage, ResetPasswordPage, SignupPage } from '../../../views/auth/auth-pages'
import { emptyForm } from '../../../views/components/form'
import {
  type AppDeps,
  clearSessionCookie,
  reqCtx,
  sessionCookie,
  setFlash,
} from '../../platform/http/context'
import { AppError } from '../../platform/http/errors'
import { field, fields, html, redirect, safeNext, uiOf, withForm } from '../../platform/http/respond'
import { createSession, invalidateSession } from './auth.sessions'
import { logIn, requestPasswordReset, resetPassword, resetTokenValid, signUp } from './auth.usecases'

export function authRoutes(deps: AppDeps) {
  const { db, config, mailer } = deps
  return new Elysia({ name: 'auth.routes' })
    .get('/', async ({ request }) => {
      const r = await reqCtx(deps, request)
      return redirect(r, r.auth ? '/dashboard' : '/login')
    })
    .get('/login', async ({ request, query }) => {
      const r = await reqCtx(deps, request)
      if (r.auth) return redirect(r, safeNext(query.next))
      return html(r, <LoginPage ui={uiOf(r)} form={emptyForm({ remember: '1' })} next={query.next} />)
    })
    .post('/login', async ({ request, body }) => {
      const r = await reqCtx(deps, request)
      const v = fields(body, ['email', 'password', 'remember', 'next'])
      const form = emptyForm(v)
      try {
        const { userId } = await logIn(db, { email: v.email!, password: v.password!, ip: r.ip })
        const remember = v.remember === '1'
        const s = await createSession(db, {
          userId,
          orgId: null,
          remember,
          ip: r.ip,
          userAgent: request.headers.get('user-agent'),
        })
        r.cookies.push(sessionCookie(config, s.token, remember ? s.expiresAt : null))
        return redirect(r, safeNext(v.next))
      } catch (err) {
        if (!(err instanceof AppError)) throw err
        const h = await html(
          r,
          <LoginPage ui={uiOf(r)} form={form} next={v.next} error={r.t(err.messageKey!, err.params)} />,
          err.status === 429 ? 429 : 401,
        )
        if (err.status === 429) h.headers.set('retry-after', String((err.params?.minutes as number) * 60))
        return h
      }
    })
    .post('/logout', async ({ request }) => {
      const r = await reqCtx(deps, request)
      if (r.auth) {
        await invalidateSession(db, r.auth.sessionId)
        deps.realtime?.disconnect({ sessionId: r.auth.sessionId })
      }
      r.cookies.push(clearSessionCookie(config))
      setFlash(r, 'info', r.t('auth.logged_out'))
      return redirect(r, '/login')
    })
    .get('/signup', async ({ request }) => {
      const r = await reqCtx(deps, request)
      if (r.auth) return redirect(r, '/dashboard')
      return html(r, <SignupPage ui={uiOf(r)} form={emptyForm()} enabled={config.signupEnabled} />)
    })
    .post('/signup', async ({ request, body }) => {
      const r = await reqCtx(deps, request)
      if (!config.signupEnabled) throw new AppError('auth.signup_disabled', 403, 'auth.signup.disabled')
      const v = fields(body, ['name', 'email', 'password', 'orgName'])
      const res = await withForm(
        () =>
          signUp(
            db,
            { name: v.name!, email: v.email!, password: v.password!, orgName: v.orgName!, locale: r.locale },
            { ip: r.ip },
          ),
        async (e) => html(r, <SignupPage ui={uiOf(r)} form={{ values: v, errors: e }} enabled />, 422),
      )
      if (!res.ok) return res.response
      const s = await createSession(db, {
        userId: res.value.user.id,
        orgId: res.value.org.id,
        remember: true,
        ip: r.ip,
        userAgent: request.headers.get('user-agent'),
      })
      r.cookies.push(sessionCookie(config, s.token, s.expiresAt))
      return redirect(r, '/dashboard')
    })
    .get('/forgot-password', async ({ request }) => {
      const r = await reqCtx(deps, request)
      return html(r, <ForgotPasswordPage ui={uiOf(r)} form={emptyForm()} sent={false} />)
    })
    .post('/forgot-password', async ({ request, body }) => {
      const r = await reqCtx(deps, request)
      const v = fields(body, ['email'])
      const res = await withForm(
        () =>
          requestPasswordReset(db, mailer, {
            email: v.email!,
            baseUrl: config.baseUrl,
            instanceName: config.instanceName,
            locale: r.locale,
          }),
        async (e) =>
          html(r, <ForgotPasswordPage ui={uiOf(r)} form={{ values: v, errors: e }} sent={false} />, 422),
      )
      if (!res.ok) return res.response
      return html(r, <ForgotPasswordPage ui={uiOf(r)} form={emptyForm()} sent />)
    })
    .get('/reset-password/:token', async ({ request, params }) => {
      const r = await reqCtx(deps, request)
      const valid = await resetTokenValid(db, params.token)
      return html(
        r,
        <ResetPasswordPage ui={uiOf(r)} form={emptyForm()} token={params.token} valid={valid} />,
        valid ? 200 : 410,
      )
    })
    .post('/reset-password/:token', async ({ request, params, body }) => {
      const r = await reqCtx(deps, request)
      const password = field(body, 'password')
      try {
        const res = await withForm(
          () => resetPassword(db, { token: params.token, password }),
          async (e) =>
            html(
              r,
              <ResetPasswordPage ui={uiOf(r)} form={{ values: {}, errors: e }} token={params.token} valid />,
              422,
            ),
        )
        if (!res.ok) return res.response
      } catch (err) {
        if (err instanceof AppError && err.code === 'auth.reset_invalid')
          return html(
            r,
            <ResetPasswordPage ui={uiOf(r)} form={emptyForm()} token={params.token} valid={false} />,
            410,
          )
        throw err
      }
      r.cookies.push(clearSessionCookie(config))
      setFlash(r, 'success', r.t('auth.reset.done'))
      return redirect(r, '/login')
    })
}
