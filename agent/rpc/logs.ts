import type { Family } from "./family";
import { RpcFailure } from "./policy";

export const family: Family = {
  async call(method) {
    throw new RpcFailure("unsupported", `${method} is not implemented by this agent yet`);
  },
};
