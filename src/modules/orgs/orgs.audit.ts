import { desc, eq } from 'drizzle-orm'
import { beforeCursor, pageOf } from '../../platform/db/keyset'
import type { OrgTx, SystemTx } from '../../platform/db/tenancy'
import type { Cursor } from '../../shared/cursor'
import { users } from '../auth/auth.table'
import { auditLog } from './orgs.table'

export interface AuditEntry {
  orgId: string
  actorId: string | null
  action: string
  targetType?: string
  targetId?: string
  before?: unknown
  after?: unknown
  ip?: string | null
}

/** Every change to an organization, its members or access writes one row (append-only for the app role). */
export async function recordAudit(tx: OrgTx | SystemTx, e: AuditEntry) {
  await tx.insert(auditLog).values({
    organizationId: e.orgId,
    actorUserId: e.actorId,
    action: e.action,
    targetType: e.targetType ?? null,
    targetId: e.targetId ?? null,
    before: e.before ?? null,
    after: e.after ?? null,
    ip: e.ip ?? null,
  })
}

export const AUDIT_PAGE = 50

/** Newest first, keyset-paginated by (created_at, id). */
export async function listAudit(tx: OrgTx, cursor?: Cursor) {
  const rows = await tx
    .select({
      id: auditLog.id,
      action: auditLog.action,
      targetType: auditLog.targetType,
      targetId: auditLog.targetId,
      before: auditLog.before,
      after: auditLog.after,
      ip: auditLog.ip,
      createdAt: auditLog.createdAt,
      actorName: users.name,
      actorEmail: users.email,
    })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.actorUserId))
    .where(beforeCursor(auditLog.createdAt, auditLog.id, cursor))
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(AUDIT_PAGE + 1)
  return pageOf(rows, AUDIT_PAGE)
}
