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
CREATE UNIQUE INDEX `reboot_orchestrations_active_unique` ON `reboot_orchestrations` (`node_id`) WHERE status NOT IN ('completed', 'failed', 'cancelled');--> statement-breakpoint
CREATE TABLE `self_update_targets` (
	`request_id` text NOT NULL,
	`node_id` text NOT NULL,
	`rank` integer NOT NULL,
	`status` text NOT NULL,
	`from_version` text,
	`triggered_at` integer,
	`finished_at` integer,
	`error` text,
	PRIMARY KEY(`request_id`, `node_id`),
	FOREIGN KEY (`request_id`) REFERENCES `self_update_requests`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `self_update_targets_rank_idx` ON `self_update_targets` (`request_id`,`status`,`rank`);--> statement-breakpoint
CREATE INDEX `self_update_targets_node_idx` ON `self_update_targets` (`node_id`,`status`);--> statement-breakpoint
ALTER TABLE `self_update_requests` ADD `max_concurrency` text;--> statement-breakpoint
ALTER TABLE `self_update_requests` ADD `max_errors` text;--> statement-breakpoint
ALTER TABLE `self_update_requests` ADD `concurrency_limit` integer;--> statement-breakpoint
ALTER TABLE `self_update_requests` ADD `error_limit` integer;--> statement-breakpoint
ALTER TABLE `self_update_requests` ADD `rollout_order` text;--> statement-breakpoint
ALTER TABLE `self_update_requests` ADD `rollout_status` text;--> statement-breakpoint
ALTER TABLE `self_update_requests` ADD `rollout_reason` text;--> statement-breakpoint
CREATE INDEX `self_update_requests_rollout_idx` ON `self_update_requests` (`rollout_status`);