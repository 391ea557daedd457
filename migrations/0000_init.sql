CREATE TABLE `aliases` (
	`id` text PRIMARY KEY NOT NULL,
	`node_id` text NOT NULL,
	`cluster_id` text NOT NULL,
	`name` text NOT NULL,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `aliases_cluster_name_unique` ON `aliases` (`cluster_id`,`name`);--> statement-breakpoint
CREATE INDEX `aliases_node_idx` ON `aliases` (`node_id`);--> statement-breakpoint
CREATE INDEX `aliases_inserted_at_idx` ON `aliases` (`inserted_at`,`id`);--> statement-breakpoint
CREATE TABLE `clusters` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`ipv4_range` text NOT NULL,
	`ipv4_start` integer NOT NULL,
	`ipv4_end` integer NOT NULL,
	`node_limit` integer,
	`network_name` text NOT NULL,
	`vpn_domain` text NOT NULL,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `clusters_name_unique` ON `clusters` (`name`);--> statement-breakpoint
CREATE INDEX `clusters_ipv4_start_idx` ON `clusters` (`ipv4_start`,`ipv4_end`);--> statement-breakpoint
CREATE INDEX `clusters_inserted_at_idx` ON `clusters` (`inserted_at`,`id`);--> statement-breakpoint
CREATE TABLE `command_executions` (
	`id` text PRIMARY KEY NOT NULL,
	`command_id` text NOT NULL,
	`node_id` text,
	`cluster_name` text,
	`target_all` integer NOT NULL,
	`command_text` text NOT NULL,
	`timeout` integer,
	`expired_at` integer,
	`status` text NOT NULL,
	`exit_code` integer,
	`output` text,
	`sent_at` integer,
	`completed_at` integer,
	`cancelled_at` integer,
	`cancel_requested_at` integer,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`command_id`) REFERENCES `commands`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `command_executions_node_status_idx` ON `command_executions` (`node_id`,`status`,`inserted_at`);--> statement-breakpoint
CREATE INDEX `command_executions_status_inserted_idx` ON `command_executions` (`status`,`inserted_at`,`id`);--> statement-breakpoint
CREATE INDEX `command_executions_command_idx` ON `command_executions` (`command_id`,`status`);--> statement-breakpoint
CREATE INDEX `command_executions_inserted_at_idx` ON `command_executions` (`inserted_at`,`id`);--> statement-breakpoint
CREATE INDEX `command_executions_expiry_idx` ON `command_executions` (`status`,`expired_at`);--> statement-breakpoint
CREATE TABLE `commands` (
	`id` text PRIMARY KEY NOT NULL,
	`command_text` text NOT NULL,
	`targeting` text NOT NULL,
	`timeout` integer,
	`expired_at` integer,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `commands_inserted_at_idx` ON `commands` (`inserted_at`,`id`);--> statement-breakpoint
CREATE TABLE `enrollment_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`name` text,
	`key_hash` text NOT NULL,
	`key_ciphertext` text NOT NULL,
	`uses_remaining` integer,
	`expired_at` integer,
	`last_used_at` integer,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `enrollment_keys_key_hash_unique` ON `enrollment_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `enrollment_keys_cluster_idx` ON `enrollment_keys` (`cluster_id`);--> statement-breakpoint
CREATE INDEX `enrollment_keys_inserted_at_idx` ON `enrollment_keys` (`inserted_at`,`id`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`data` text NOT NULL,
	`fanned_out_at` integer
);
--> statement-breakpoint
CREATE INDEX `events_occurred_at_idx` ON `events` (`occurred_at`,`id`);--> statement-breakpoint
CREATE INDEX `events_type_idx` ON `events` (`type`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `events_fan_out_idx` ON `events` (`fanned_out_at`,`occurred_at`);--> statement-breakpoint
CREATE TABLE `nodes` (
	`id` text PRIMARY KEY NOT NULL,
	`id_type` text NOT NULL,
	`cluster_id` text NOT NULL,
	`node_name` text NOT NULL,
	`status` text DEFAULT 'unreachable' NOT NULL,
	`version` text,
	`hostname` text,
	`platform` text,
	`ipv4_address` text,
	`netmaker_host_id` text,
	`api_token_hash` text NOT NULL,
	`api_token_ciphertext` text NOT NULL,
	`proxy_password_ciphertext` text NOT NULL,
	`self_update_enabled` integer DEFAULT true NOT NULL,
	`last_seen_at` integer,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE UNIQUE INDEX `nodes_api_token_hash_unique` ON `nodes` (`api_token_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `nodes_cluster_ipv4_unique` ON `nodes` (`cluster_id`,`ipv4_address`);--> statement-breakpoint
CREATE INDEX `nodes_last_seen_at_idx` ON `nodes` (`last_seen_at`);--> statement-breakpoint
CREATE INDEX `nodes_cluster_idx` ON `nodes` (`cluster_id`);--> statement-breakpoint
CREATE INDEX `nodes_inserted_at_idx` ON `nodes` (`inserted_at`,`id`);--> statement-breakpoint
CREATE INDEX `nodes_status_idx` ON `nodes` (`status`);--> statement-breakpoint
CREATE TABLE `self_update_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`targeting` text NOT NULL,
	`status` text NOT NULL,
	`summary` text,
	`release` text,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `self_update_requests_inserted_at_idx` ON `self_update_requests` (`inserted_at`,`id`);--> statement-breakpoint
CREATE TABLE `ssh_public_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`ssh_username_id` text NOT NULL,
	`key_name` text NOT NULL,
	`public_key` text NOT NULL,
	`fingerprint` text NOT NULL,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`ssh_username_id`) REFERENCES `ssh_usernames`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ssh_public_keys_username_fingerprint_unique` ON `ssh_public_keys` (`ssh_username_id`,`fingerprint`);--> statement-breakpoint
CREATE INDEX `ssh_public_keys_inserted_at_idx` ON `ssh_public_keys` (`inserted_at`,`id`);--> statement-breakpoint
CREATE TABLE `ssh_usernames` (
	`id` text PRIMARY KEY NOT NULL,
	`node_id` text NOT NULL,
	`username` text NOT NULL,
	`password_hash` text,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ssh_usernames_node_username_unique` ON `ssh_usernames` (`node_id`,`username`);--> statement-breakpoint
CREATE INDEX `ssh_usernames_inserted_at_idx` ON `ssh_usernames` (`inserted_at`,`id`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`webhook_id` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_status_code` integer,
	`last_error` text,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`webhook_id`) REFERENCES `webhooks`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`event_id`) REFERENCES `events`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_event_unique` ON `webhook_deliveries` (`webhook_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due_idx` ON `webhook_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_webhook_idx` ON `webhook_deliveries` (`webhook_id`,`inserted_at`);--> statement-breakpoint
CREATE TABLE `webhook_delivery_attempts` (
	`id` text PRIMARY KEY NOT NULL,
	`delivery_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`status_code` integer,
	`duration_ms` integer NOT NULL,
	`error` text,
	`attempted_at` integer NOT NULL,
	FOREIGN KEY (`delivery_id`) REFERENCES `webhook_deliveries`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `webhook_delivery_attempts_delivery_idx` ON `webhook_delivery_attempts` (`delivery_id`,`attempt`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`secret_ciphertext` text NOT NULL,
	`headers_ciphertext` text,
	`subscribed_events` text NOT NULL,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhooks_inserted_at_idx` ON `webhooks` (`inserted_at`,`id`);