/**
 * Who is signed in. /auth/me answers 401 when nobody is: the shell then shows
 * the login page. Any later 401 (session expired) does the same.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, type ReactNode } from "react";
import { api, ApiError, onUnauthorized, setCsrfToken } from "./client";
import { keys } from "./keys";
import type { Me, Role } from "./types";

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

interface Auth {
  me: Me | null;
  loading: boolean;
  error: unknown;
  /** Whether the signed-in user has this role or a higher one. */
  can: (role: Role) => boolean;
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: keys.me,
    queryFn: async () => {
      try {
        const me = await api<Me>("/auth/me", { quiet401: true });
        setCsrfToken(me.csrfToken);
        return me;
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return null;
        throw err;
      }
    },
    staleTime: 5 * 60_000,
    retry: 1,
  });

  useEffect(
    () =>
      onUnauthorized(() => {
        setCsrfToken(null);
        qc.setQueryData(keys.me, null);
      }),
    [qc],
  );

  const login = useCallback(
    async (username: string, password: string) => {
      const me = await api<Me>("/auth/login", { method: "POST", body: { username, password }, quiet401: true });
      setCsrfToken(me.csrfToken);
      qc.setQueryData(keys.me, me);
    },
    [qc],
  );

  const logout = useCallback(async () => {
    try {
      await api("/auth/logout", { method: "POST", quiet401: true });
    } finally {
      setCsrfToken(null);
      // Signed out first, so the shell shows the login page; then drop everything the user could see.
      qc.setQueryData(keys.me, null);
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== keys.me[0] });
    }
  }, [qc]);

  const me = q.data ?? null;
  const can = useCallback((role: Role) => (me ? RANK[me.user.role] >= RANK[role] : false), [me]);
  const value = useMemo<Auth>(() => ({ me, loading: q.isPending, error: q.error, can, login, logout }), [me, q.isPending, q.error, can, login, logout]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error("useAuth outside AuthProvider");
  return a;
}
