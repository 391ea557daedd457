/** Every page lives below /console; links and route() calls go through here. */
export const BASE = "/console";
export const to = (path = ""): string => `${BASE}${path}`;
