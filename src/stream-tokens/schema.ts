import * as v from "valibot";
import { DateTimeOutput } from "../schemas/common";

export const StreamTokenRequest = v.pipe(
  v.strictObject({
    path: v.pipe(
      v.string("must be a string"),
      v.maxLength(512, "must be at most 512 characters"),
      v.regex(/^\/api\/v1\/[A-Za-z0-9/_.-]+$/, "must be an /api/v1/… path without a query"),
    ),
  }),
  v.title("StreamTokenRequest"),
);

export const StreamTokenResponseSchema = v.pipe(
  v.object({
    token: v.pipe(v.string(), v.description("Pass as `?token=` to that one SSE path within 60 seconds")),
    expires_at: DateTimeOutput,
  }),
  v.title("StreamTokenResponse"),
);
