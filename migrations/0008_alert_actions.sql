CREATE TABLE `alert_notes` (
	`id` text PRIMARY KEY NOT NULL,
	`alert_id` text NOT NULL,
	`body` text NOT NULL,
	`author` text NOT NULL,
	`inserted_at` integer NOT NULL,
	FOREIGN KEY (`alert_id`) REFERENCES `alerts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `alert_notes_alert_idx` ON `alert_notes` (`alert_id`,`inserted_at`);--> statement-breakpoint
CREATE TABLE `alert_silences` (
	`id` text PRIMARY KEY NOT NULL,
	`targeting` text NOT NULL,
	`metric` text,
	`starts_at` integer NOT NULL,
	`ends_at` integer NOT NULL,
	`comment` text NOT NULL,
	`created_by` text NOT NULL,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_silences_inserted_at_idx` ON `alert_silences` (`inserted_at`,`id`);--> statement-breakpoint
CREATE INDEX `alert_silences_ends_at_idx` ON `alert_silences` (`ends_at`);--> statement-breakpoint
CREATE TABLE `notification_channels` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`config` text NOT NULL,
	`secrets_ciphertext` text NOT NULL,
	`subscribed_events` text NOT NULL,
	`enabled` integer NOT NULL,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `notification_channels_inserted_at_idx` ON `notification_channels` (`inserted_at`,`id`);--> statement-breakpoint
CREATE TABLE `notification_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`channel_id` text NOT NULL,
	`event_id` text,
	`event_type` text NOT NULL,
	`alert_id` text,
	`reason` text NOT NULL,
	`data` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_status_code` integer,
	`last_error` text,
	`last_duration_ms` integer,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`channel_id`) REFERENCES `notification_channels`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notification_deliveries_event_unique` ON `notification_deliveries` (`channel_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `notification_deliveries_due_idx` ON `notification_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `notification_deliveries_channel_idx` ON `notification_deliveries` (`channel_id`,`inserted_at`);--> statement-breakpoint
ALTER TABLE `alerts` ADD `cleared_at` integer;--> statement-breakpoint
ALTER TABLE `alerts` ADD `last_notified_at` integer;--> statement-breakpoint
CREATE INDEX `alerts_status_notified_idx` ON `alerts` (`status`,`last_notified_at`);--> statement-breakpoint
CREATE INDEX `alerts_resolved_at_idx` ON `alerts` (`resolved_at`);--> statement-breakpoint
ALTER TABLE `events` ADD `notified_at` integer;--> statement-breakpoint
CREATE INDEX `events_notify_idx` ON `events` (`notified_at`,`occurred_at`);--> statement-breakpoint
-- hand-written:
-- Events recorded before channels existed are not announced to channels created later.
UPDATE `events` SET `notified_at` = `occurred_at` WHERE `notified_at` IS NULL;--> statement-breakpoint
-- The three built-in rules of GET/PUT /api/v1/alerts/config (seed 002's thresholds), all nodes.
INSERT INTO `alert_rules` (`id`, `name`, `metric`, `operator`, `warning_threshold`, `critical_threshold`, `for_seconds`, `targeting`, `enabled`, `channel_ids`, `repeat_interval_seconds`, `inserted_at`, `updated_at`) VALUES
  ('00000000-0000-4000-8000-00000000a001', 'CPU usage', 'cpu', 'gt', 80, 95, 60, '{"type":"all"}', 1, '[]', 3600, 0, 0),
  ('00000000-0000-4000-8000-00000000a002', 'Memory usage', 'memory', 'gt', 85, 95, 60, '{"type":"all"}', 1, '[]', 3600, 0, 0),
  ('00000000-0000-4000-8000-00000000a003', 'Disk usage', 'disk', 'gt', 80, 90, 60, '{"type":"all"}', 1, '[]', 3600, 0, 0)
  ON CONFLICT DO NOTHING;--> statement-breakpoint
UPDATE `roles` SET `permissions` = json_insert(`permissions`, '$[#]', 'alert_silences:*') WHERE `id` = '00000000-0000-4000-8000-000000000002';--> statement-breakpoint
UPDATE `roles` SET `permissions` = json_insert(`permissions`, '$[#]', 'notification_channels:*') WHERE `id` = '00000000-0000-4000-8000-000000000002';
