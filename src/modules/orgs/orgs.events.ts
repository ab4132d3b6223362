// Domain events of the organization module (delivered to every member's open pages by the hub).
declare module '../../platform/events/events.types' {
  interface DomainEvents {
    'org.updated': { fields: string[] }
    'member.invited': { invitationId: string; role: string }
    'member.joined': { userId: string; role: string }
    'member.role_changed': { userId: string; from: string; to: string }
    'member.removed': { userId: string; left: boolean }
  }
}

export {}
