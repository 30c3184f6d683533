/** The roles a person can have. The owner may do everything. */
export const roles = ['owner', 'marketer', 'agent', 'staff'] as const;
export type Role = (typeof roles)[number];

/** Who may call a route: a person's role, or the POS token (verify and void only). */
export type Principal = Role | 'pos';
export const principals: readonly Principal[] = [...roles, 'pos'];

/** Who did something: a person, the ADMIN_TOKEN (acting as an owner) or the POS token. */
export interface Actor {
  id: string;
  name: string;
  role: Principal;
}

/** The ADMIN_TOKEN acts as an owner; audit entries name it so. */
export const adminTokenActor: Actor = { id: 'admin-token', name: 'Admin token', role: 'owner' };
export const posTokenActor: Actor = { id: 'pos-token', name: 'POS', role: 'pos' };
/** Work the service does by itself (flows, broadcasts, sweeps). */
export const systemActor: Actor = { id: 'system', name: 'System', role: 'owner' };
