CREATE TABLE `alert_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`metric` text NOT NULL,
	`operator` text NOT NULL,
	`warning_threshold` real NOT NULL,
	`critical_threshold` real,
	`for_seconds` integer NOT NULL,
	`targeting` text NOT NULL,
	`enabled` integer NOT NULL,
	`channel_ids` text NOT NULL,
	`repeat_interval_seconds` integer NOT NULL,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_rules_inserted_at_idx` ON `alert_rules` (`inserted_at`,`id`);--> statement-breakpoint
CREATE TABLE `alerts` (
	`id` text PRIMARY KEY NOT NULL,
	`rule_id` text NOT NULL,
	`node_id` text NOT NULL,
	`metric` text NOT NULL,
	`level` text NOT NULL,
	`status` text NOT NULL,
	`value` real NOT NULL,
	`peak_value` real NOT NULL,
	`threshold` real NOT NULL,
	`started_at` integer NOT NULL,
	`resolved_at` integer,
	`acknowledged_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alerts_started_at_idx` ON `alerts` (`started_at`,`id`);--> statement-breakpoint
CREATE INDEX `alerts_node_status_idx` ON `alerts` (`node_id`,`status`);