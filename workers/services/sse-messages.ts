/** One whole Server-Sent Events message as read back from an upstream stream. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/** The whole messages in `buffer` (comments and keepalives dropped); the unfinished tail is returned. */
export function sseMessages(buffer: string): { parsed: SseMessage[]; rest: string } {
  const parts = buffer.split("\n\n");
  const rest = parts.pop() ?? "";
  const parsed = parts.flatMap((part) => {
    let id: string | undefined;
    let event = "message";
    const data: string[] = [];
    for (const line of part.split("\n")) {
      if (line.startsWith("id:")) id = line.slice(3).trim();
      else if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    return data.length > 0 ? [{ id, event, data: data.join("\n") }] : [];
  });
  return { parsed, rest };
}
