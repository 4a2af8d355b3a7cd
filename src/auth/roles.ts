/**
 * Roles, from least to most trusted. Each includes what the ones before it
 * may do: a viewer reads; an operator also triggers, pauses, clears and
 * marks; an admin may do everything (users, connections, variables).
 */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Whether `role` may do what needs `needed`. Unknown roles (a hand-edited row) may do nothing. */
export function hasRole(role: string, needed: Role): boolean {
  return isRole(role) && ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
