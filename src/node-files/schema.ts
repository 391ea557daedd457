import * as v from "valibot";

/** A file written on a node by an upload. */
export const FileUploadResultSchema = v.pipe(
  v.object({
    path: v.pipe(v.string(), v.description("Where the file now is (its directory resolved)")),
    size: v.pipe(v.number(), v.integer(), v.description("Bytes written")),
    sha256: v.pipe(v.string(), v.description("SHA-256 the agent computed over what it wrote (hex)")),
    mode: v.pipe(v.string(), v.description("Permission bits, octal (0644)")),
  }),
  v.title("NodeFileUpload"),
);
export type FileUploadResult = v.InferOutput<typeof FileUploadResultSchema>;

const flag = (name: string) =>
  v.optional(
    v.pipe(
      v.picklist(["true", "false"], `${name} must be true or false`),
      v.transform((s) => s === "true"),
    ),
    "false",
  );

/** The text fields of the multipart upload (the `file` part is checked on its own). */
export const FileUploadFields = v.object({
  dest: v.pipe(
    v.string("dest is required"),
    v.maxLength(4096),
    v.startsWith("/", "must be an absolute path"),
    v.check((p) => !p.includes("\0") && !p.endsWith("/"), "must name a file, without NUL"),
  ),
  mode: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^0?[0-7]{3}$/, "must be octal permission bits such as 0644"),
      v.transform((s) => Number.parseInt(s, 8)),
    ),
    "0644",
  ),
  overwrite: flag("overwrite"),
  create_dirs: flag("create_dirs"),
});

/** The path of a download. */
export const FilePathQuery = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(4096),
  v.startsWith("/", "must be an absolute path"),
  v.check((p) => !p.includes("\0"), "must not contain NUL"),
);
