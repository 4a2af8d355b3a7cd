/** Admin: pools, variables, connections and users. Only admins reach it (the API enforces the same). */
import { Navigate, NavLink, useParams } from "react-router";
import { useAuth } from "../../api/auth";
import { EmptyState } from "../../components/Feedback";
import { Icon, type IconName } from "../../components/Icon";
import { ConnectionsAdmin } from "./ConnectionsAdmin";
import { PoolsAdmin } from "./PoolsAdmin";
import { UsersAdmin } from "./UsersAdmin";
import { VariablesAdmin } from "./VariablesAdmin";

const SECTIONS: { id: string; label: string; icon: IconName; hint: string }[] = [
  { id: "pools", label: "Pools", icon: "pool", hint: "Limit how many tasks run at once against a shared resource." },
  { id: "variables", label: "Variables", icon: "variable", hint: "Settings tasks read at run time; secret ones are stored encrypted." },
  { id: "connections", label: "Connections", icon: "plug", hint: "Hosts and credentials of external systems; passwords are write-only." },
  { id: "users", label: "Users", icon: "user", hint: "Who can sign in, their role, and their API tokens." },
];

export default function AdminPage() {
  const { section = "pools" } = useParams();
  const { can } = useAuth();
  if (!can("admin")) {
    return (
      <main className="page">
        <EmptyState heading="h1" title="Admins only" icon="key">
          Your role cannot manage pools, variables, connections or users. Ask an admin.
        </EmptyState>
      </main>
    );
  }
  const current = SECTIONS.find((s) => s.id === section);
  if (!current) return <Navigate to="/admin/pools" replace />;
  return (
    <main className="page admin">
      <div className="page-header">
        <div className="page-title">
          <h1>Admin</h1>
          <p className="muted">{current.hint}</p>
        </div>
      </div>
      <div className="admin-layout">
        <nav className="admin-nav" aria-label="Admin sections">
          {SECTIONS.map((s) => (
            <NavLink key={s.id} to={`/admin/${s.id}`} className={({ isActive }) => `admin-nav-link ${isActive ? "active" : ""}`}>
              <Icon name={s.icon} /> {s.label}
            </NavLink>
          ))}
        </nav>
        <div className="admin-content">
          {section === "pools" && <PoolsAdmin />}
          {section === "variables" && <VariablesAdmin />}
          {section === "connections" && <ConnectionsAdmin />}
          {section === "users" && <UsersAdmin />}
        </div>
      </div>
    </main>
  );
}
