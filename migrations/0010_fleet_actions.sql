CREATE TABLE `power_actions` (
	`id` text PRIMARY KEY NOT NULL,
	`node_id` text,
	`command_id` text NOT NULL,
	`execution_id` text NOT NULL,
	`action` text NOT NULL,
	`delay_seconds` integer NOT NULL,
	`force` integer NOT NULL,
	`message` text,
	`unit` text NOT NULL,
	`scheduled_at` integer NOT NULL,
	`cancelled_at` integer,
	`confirmed_at` integer,
	`previous_boot_id` text,
	`downtime_seconds` integer,
	`inserted_at` integer NOT NULL,
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`command_id`) REFERENCES `commands`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `power_actions_node_idx` ON `power_actions` (`node_id`,`inserted_at`);--> statement-breakpoint
CREATE INDEX `power_actions_scheduled_idx` ON `power_actions` (`scheduled_at`,`id`);--> statement-breakpoint
CREATE INDEX `power_actions_inserted_idx` ON `power_actions` (`inserted_at`,`id`);--> statement-breakpoint
ALTER TABLE `command_executions` ADD `started_at` integer;--> statement-breakpoint
ALTER TABLE `command_executions` ADD `duration_ms` integer;--> statement-breakpoint
ALTER TABLE `command_executions` ADD `held` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `command_executions` ADD `rollout_rank` integer;--> statement-breakpoint
CREATE INDEX `command_executions_rollout_idx` ON `command_executions` (`command_id`,`held`,`rollout_rank`);--> statement-breakpoint
ALTER TABLE `commands` ADD `max_concurrency` text;--> statement-breakpoint
ALTER TABLE `commands` ADD `max_errors` text;--> statement-breakpoint
ALTER TABLE `commands` ADD `concurrency_limit` integer;--> statement-breakpoint
ALTER TABLE `commands` ADD `error_limit` integer;--> statement-breakpoint
ALTER TABLE `commands` ADD `rollout_order` text;--> statement-breakpoint
ALTER TABLE `commands` ADD `rollout_status` text;--> statement-breakpoint
ALTER TABLE `commands` ADD `rollout_reason` text;--> statement-breakpoint
CREATE INDEX `commands_rollout_status_idx` ON `commands` (`rollout_status`);--> statement-breakpoint
-- hand-written:
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'power:read') WHERE id = '00000000-0000-4000-8000-000000000002';--> statement-breakpoint
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'power:manage') WHERE id = '00000000-0000-4000-8000-000000000002';--> statement-breakpoint
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'services:manage') WHERE id = '00000000-0000-4000-8000-000000000002';--> statement-breakpoint
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'containers:manage') WHERE id = '00000000-0000-4000-8000-000000000002';
