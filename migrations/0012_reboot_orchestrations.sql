CREATE TABLE `reboot_orchestrations` (
	`id` text PRIMARY KEY NOT NULL,
	`node_id` text,
	`status` text NOT NULL,
	`child_hosts_snapshot` text NOT NULL,
	`child_hosts_restart_status` text NOT NULL,
	`shutdown_timeout_seconds` integer NOT NULL,
	`force_stop_on_timeout` integer NOT NULL,
	`initiated_by` text NOT NULL,
	`initiated_at` integer NOT NULL,
	`shutdown_completed_at` integer,
	`reboot_issued_at` integer,
	`agent_reconnected_at` integer,
	`restart_completed_at` integer,
	`error_message` text,
	`stop_command_id` text,
	`power_action_id` text,
	`start_command_id` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `reboot_orchestrations_node_idx` ON `reboot_orchestrations` (`node_id`,`initiated_at`);--> statement-breakpoint
CREATE INDEX `reboot_orchestrations_initiated_idx` ON `reboot_orchestrations` (`initiated_at`,`id`);--> statement-breakpoint
CREATE INDEX `reboot_orchestrations_status_idx` ON `reboot_orchestrations` (`status`,`initiated_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `reboot_orchestrations_active_unique` ON `reboot_orchestrations` (`node_id`) WHERE status NOT IN ('completed', 'failed', 'cancelled');