export interface Node {
  id: string;
  node_name: string;
  display_name: string | null;
  hostname: string | null;
  cluster_name: string;
  status: "healthy" | "unhealthy" | "unreachable";
  tags: string[];
  notes: string | null;
  os_version: string | null;
  platform: string | null;
  arch: string | null;
  kernel: string | null;
  primary_ip: string | null;
  version: string | null;
  last_seen_at: string | null;
  inserted_at: string;
  updated_at: string;
  id_type: string;
  self_update_enabled: boolean;
}

export interface Execution {
  id: string;
  command_id: string;
  node_id: string | null;
  command_text: string | null;
  status: "pending" | "sent" | "completed" | "cancelled" | "expired";
  exit_code: number | null;
  output: string | null;
  output_truncated: boolean;
  inserted_at: string;
  completed_at: string | null;
}
