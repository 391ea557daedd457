import { useEffect, useState } from "preact/hooks";
import { LocationProvider, lazy, Route, Router, useLocation } from "preact-iso";
import { currentToken, get, onTokenChange, send, setToken } from "./api";
import { firstLoadSettled } from "./first-load";
import { FleetPage } from "./pages/fleet";
import { LoginPage } from "./pages/login";
import { to } from "./paths";

// The fleet page (the one opened first) and the login form are in the first script; every other page
// is its own file, fetched when first opened, so a first load parses less before its nodes request.
const NodePage = lazy(() => import("./pages/node").then((m) => m.NodePage));
const RunPage = lazy(() => import("./pages/run").then((m) => m.RunPage));
const AlertsPage = lazy(() => import("./pages/alerts").then((m) => m.AlertsPage));
const AuditPage = lazy(() => import("./pages/audit").then((m) => m.AuditPage));
const SettingsPage = lazy(() => import("./pages/settings").then((m) => m.SettingsPage));

const NAV = [
  ["Fleet", to("/")],
  ["Run", to("/run")],
  ["Alerts", to("/alerts")],
  ["Audit log", to("/audit")],
  ["Settings", to("/settings")],
] as const;

function Nav({ who }: { who: string }) {
  const { path } = useLocation();
  const [open, setOpen] = useState(false);
  const logout = async () => {
    // A user session is ended on the server too; a key or API token is only forgotten here.
    if (currentToken()?.startsWith("ots_")) await send("POST", "/api/v1/auth/logout").catch(() => undefined);
    setToken(null);
  };
  return (
    <header class="top">
      <a class="brand" href={to("/")}>
        Outpost
      </a>
      <button
        type="button"
        class="menu"
        aria-expanded={open}
        aria-controls="nav"
        onClick={() => setOpen(!open)}
      >
        Menu
      </button>
      <nav id="nav" class={open ? "open" : ""} aria-label="Main">
        {NAV.map(([label, href]) => {
          const current = href === to("/") ? path === to("/") || path === to("") : path.startsWith(href);
          return (
            <a
              key={href}
              href={href}
              aria-current={current ? "page" : undefined}
              onClick={() => setOpen(false)}
            >
              {label}
            </a>
          );
        })}
      </nav>
      <span class="who">
        <span class="sr-only">Signed in as </span>
        {who}
        <button type="button" onClick={logout}>
          Log out
        </button>
      </span>
    </header>
  );
}

function Shell() {
  const [token, setTok] = useState(currentToken());
  const [who, setWho] = useState<string>("");
  useEffect(() => onTokenChange(() => setTok(currentToken())), []);
  useEffect(() => {
    if (!token) return;
    // Who is signed in is not worth delaying the first page's own request for.
    firstLoadSettled()
      .then(() => get<{ name: string; user: { username: string } | null }>("/api/v1/auth/me"))
      .then(
        (me) => setWho(me.user?.username ?? me.name),
        () => undefined,
      );
  }, [token]);
  if (!token) return <LoginPage />;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Nav who={who} />
      <main id="main" tabIndex={-1}>
        <Router>
          <Route path={to("/nodes/:id")} component={NodePage} />
          <Route path={to("/run")} component={RunPage} />
          <Route path={to("/alerts")} component={AlertsPage} />
          <Route path={to("/audit")} component={AuditPage} />
          <Route path={to("/settings")} component={SettingsPage} />
          <Route default component={FleetPage} />
        </Router>
      </main>
    </>
  );
}

export function App() {
  return (
    <LocationProvider scope="/console">
      <Shell />
    </LocationProvider>
  );
}
