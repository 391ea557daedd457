CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`scopes` text NOT NULL,
	`cluster_names` text,
	`expires_at` integer,
	`last_used_at` integer,
	`last_used_ip` text,
	`created_by_type` text NOT NULL,
	`created_by_id` text,
	`created_by_name` text NOT NULL,
	`revoked_at` integer,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `api_tokens_creator_idx` ON `api_tokens` (`created_by_id`);--> statement-breakpoint
CREATE INDEX `api_tokens_inserted_at_idx` ON `api_tokens` (`inserted_at`,`id`);--> statement-breakpoint
CREATE TABLE `audit_checkpoint` (
	`id` integer PRIMARY KEY NOT NULL,
	`last_seq` integer NOT NULL,
	`last_hash` text NOT NULL,
	`pruned_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_events` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`occurred_at` integer NOT NULL,
	`event` text NOT NULL,
	`actor_type` text NOT NULL,
	`actor_id` text,
	`actor_name` text,
	`ip` text,
	`user_agent` text,
	`method` text,
	`path` text,
	`request_id` text,
	`status_code` integer,
	`success` integer NOT NULL,
	`resource_type` text,
	`resource_id` text,
	`details` text,
	`prev_hash` text,
	`hash` text,
	`signature` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_events_seq_unique` ON `audit_events` (`seq`);--> statement-breakpoint
CREATE INDEX `audit_events_occurred_at_idx` ON `audit_events` (`occurred_at`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_events_event_idx` ON `audit_events` (`event`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_events_resource_idx` ON `audit_events` (`resource_id`);--> statement-breakpoint
CREATE INDEX `audit_events_unsealed_idx` ON `audit_events` (`hash`,`seq`);--> statement-breakpoint
CREATE TABLE `login_throttle` (
	`key` text PRIMARY KEY NOT NULL,
	`failures` integer NOT NULL,
	`window_started_at` integer NOT NULL,
	`locked_until` integer
);
--> statement-breakpoint
CREATE TABLE `roles` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`permissions` text NOT NULL,
	`is_system` integer DEFAULT false NOT NULL,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `roles_name_unique` ON `roles` (`name`);--> statement-breakpoint
CREATE INDEX `roles_inserted_at_idx` ON `roles` (`inserted_at`,`id`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`user_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	`last_used_at` integer,
	`ip` text,
	`user_agent` text,
	`inserted_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sessions_token_hash_unique` ON `sessions` (`token_hash`);--> statement-breakpoint
CREATE INDEX `sessions_user_idx` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE INDEX `sessions_expires_at_idx` ON `sessions` (`expires_at`);--> statement-breakpoint
CREATE TABLE `user_roles` (
	`user_id` text NOT NULL,
	`role_id` text NOT NULL,
	PRIMARY KEY(`user_id`, `role_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`role_id`) REFERENCES `roles`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE INDEX `user_roles_role_idx` ON `user_roles` (`role_id`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`username` text NOT NULL,
	`email` text,
	`password_hash` text NOT NULL,
	`auth_provider` text DEFAULT 'local' NOT NULL,
	`disabled` integer DEFAULT false NOT NULL,
	`last_login_at` integer,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_username_unique` ON `users` (`username`);--> statement-breakpoint
CREATE INDEX `users_inserted_at_idx` ON `users` (`inserted_at`,`id`);--> statement-breakpoint
-- System roles (src/access/permissions.ts SYSTEM_ROLES): seeded here so every database has them.
INSERT INTO `roles` (`id`, `name`, `description`, `permissions`, `is_system`, `inserted_at`, `updated_at`) VALUES
	('00000000-0000-4000-8000-000000000001', 'admin', 'Everything', '["*"]', 1, 0, 0),
	('00000000-0000-4000-8000-000000000002', 'operator', 'Runs the fleet: everything but users, roles, other principals'' tokens and settings', '["clusters:*","nodes:*","enrollment_keys:*","commands:*","ssh:*","webhooks:*","self_update:*","admins:read","events:read","metrics:read","alerts:*","api_tokens:read","api_tokens:write","audit:read"]', 1, 0, 0),
	('00000000-0000-4000-8000-000000000003', 'viewer', 'Reads everything', '["*:read"]', 1, 0, 0);
