CREATE TABLE `node_registrations` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`enrollment_key_id` text,
	`proposed_node_id` text NOT NULL,
	`id_type` text NOT NULL,
	`hostname` text NOT NULL,
	`platform` text,
	`arch` text,
	`agent_version` text,
	`ip` text,
	`status` text DEFAULT 'pending' NOT NULL,
	`poll_secret_hash` text NOT NULL,
	`api_token_ciphertext` text,
	`decided_by` text,
	`decided_at` integer,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `node_registrations_inserted_at_idx` ON `node_registrations` (`inserted_at`,`id`);--> statement-breakpoint
CREATE INDEX `node_registrations_status_idx` ON `node_registrations` (`status`,`inserted_at`);--> statement-breakpoint
CREATE TABLE `node_tombstones` (
	`node_id` text PRIMARY KEY NOT NULL,
	`cluster_name` text,
	`hostname` text,
	`inserted_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `node_tombstones_inserted_at_idx` ON `node_tombstones` (`inserted_at`,`node_id`);--> statement-breakpoint
ALTER TABLE `enrollment_keys` ADD `requires_approval` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `enrollment_keys` ADD `origin` text DEFAULT 'api' NOT NULL;--> statement-breakpoint
CREATE INDEX `enrollment_keys_origin_idx` ON `enrollment_keys` (`origin`,`uses_remaining`);--> statement-breakpoint
CREATE INDEX `enrollment_keys_expired_at_idx` ON `enrollment_keys` (`expired_at`);--> statement-breakpoint
ALTER TABLE `nodes` ADD `token_revoked_at` integer;