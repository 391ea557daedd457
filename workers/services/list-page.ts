// Moved to src/list-query/page.ts (stores in src/ page their lists). This re-export keeps the
// routes-rest resources compiling until they import it from there; delete it once nothing does.
export { listPage } from "../../src/list-query/page";
