// first-load.ts first: it starts the fleet page's nodes request before anything else is evaluated.
import "./first-load";
import { render } from "preact";
import { App } from "./app";
import "./style.css";

render(<App />, document.getElementById("app") as HTMLElement);
