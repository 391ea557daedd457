DROP INDEX `nodes_cluster_idx`;--> statement-breakpoint
CREATE INDEX `nodes_cluster_idx` ON `nodes` (`cluster_id`,`inserted_at`,`id`);--> statement-breakpoint
CREATE INDEX `command_executions_command_inserted_idx` ON `command_executions` (`command_id`,`inserted_at`,`id`);--> statement-breakpoint
CREATE INDEX `command_executions_node_inserted_idx` ON `command_executions` (`node_id`,`inserted_at`,`id`);--> statement-breakpoint
CREATE INDEX `command_executions_exit_code_idx` ON `command_executions` (`exit_code`);--> statement-breakpoint
CREATE INDEX `command_executions_completed_at_idx` ON `command_executions` (`completed_at`,`id`);