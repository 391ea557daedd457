import { useState } from "preact/hooks";
import { download, upload } from "../api";
import { ErrorBox, Section } from "../components/common";
import type { FileUploadResult } from "../schema";

/** Saves a Blob under `name` through a temporary object URL: the token never goes into a URL. */
function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Download a file from the node, or upload one to it, within the paths its owner allowed. */
export function Files({ nodeId }: { nodeId: string }) {
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<string>) => {
    setError(null);
    setStatus(null);
    setBusy(true);
    try {
      setStatus(await work());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const onDownload = (e: Event) => {
    e.preventDefault();
    const path = String(new FormData(e.currentTarget as HTMLFormElement).get("path") ?? "").trim();
    void run(async () => {
      const blob = await download(`/api/v1/nodes/${nodeId}/files`, { path });
      save(blob, path.split("/").pop() || "download");
      return `Downloaded ${path} (${blob.size} bytes)`;
    });
  };
  const onUpload = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const fields = new FormData(form);
    // The API streams the upload to the agent, so every field must come before the file.
    const f = new FormData();
    f.set("dest", String(fields.get("dest") ?? ""));
    if (fields.get("mode")) f.set("mode", String(fields.get("mode")));
    // Unchecked boxes send nothing; the API wants explicit booleans.
    f.set("overwrite", fields.get("overwrite") ? "true" : "false");
    f.set("create_dirs", fields.get("create_dirs") ? "true" : "false");
    const file = fields.get("file");
    if (file) f.set("file", file);
    void run(async () => {
      const res = await upload<FileUploadResult>(`/api/v1/nodes/${nodeId}/files`, f);
      form.reset();
      return `Uploaded to ${res.path} (${res.size} bytes, sha256 ${res.sha256.slice(0, 12)}…)`;
    });
  };
  return (
    <Section title="Files">
      <p class="muted">Only paths inside the node's OUTPOST_FILE_PATHS can be read or written.</p>
      <form class="filters" aria-label="Download a file" onSubmit={onDownload}>
        <label>
          Path on the node
          <input name="path" required placeholder="/etc/hostname" />
        </label>
        <button type="submit" disabled={busy}>
          Download
        </button>
      </form>
      <form class="filters" aria-label="Upload a file" onSubmit={onUpload}>
        <label>
          File
          <input name="file" type="file" required />
        </label>
        <label>
          Destination path
          <input name="dest" required placeholder="/srv/app/config.yml" />
        </label>
        <label>
          Mode
          <input name="mode" placeholder="0644" pattern="[0-7]{3,4}" />
        </label>
        <label>
          <input name="overwrite" type="checkbox" /> Overwrite
        </label>
        <label>
          <input name="create_dirs" type="checkbox" /> Create folders
        </label>
        <button type="submit" disabled={busy}>
          Upload
        </button>
      </form>
      <ErrorBox error={error} />
      {status && (
        <p role="status" data-testid="file-result">
          {status}
        </p>
      )}
    </Section>
  );
}
