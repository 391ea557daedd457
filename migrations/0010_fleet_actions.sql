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
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'power:manage') WHERE id = '00000000-0000-4000-8000-000000000002';--> statement-breakpoint
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'services:manage') WHERE id = '00000000-0000-4000-8000-000000000002';--> statement-breakpoint
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'containers:manage') WHERE id = '00000000-0000-4000-8000-000000000002';
