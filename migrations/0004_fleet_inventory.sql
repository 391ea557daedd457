CREATE TABLE `inventory_refresh_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`targeting` text NOT NULL,
	`sections` text NOT NULL,
	`refresh_cache` integer NOT NULL,
	`inserted_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `inventory_refresh_requests_inserted_at_idx` ON `inventory_refresh_requests` (`inserted_at`,`id`);--> statement-breakpoint
CREATE TABLE `inventory_refresh_targets` (
	`request_id` text NOT NULL,
	`node_id` text NOT NULL,
	`status` text NOT NULL,
	`answered_at` integer,
	PRIMARY KEY(`request_id`, `node_id`),
	FOREIGN KEY (`request_id`) REFERENCES `inventory_refresh_requests`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `inventory_refresh_targets_node_idx` ON `inventory_refresh_targets` (`node_id`,`status`);--> statement-breakpoint
CREATE TABLE `node_inventory` (
	`node_id` text NOT NULL,
	`section` text NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`content_hash` text NOT NULL,
	`data` text NOT NULL,
	`collected_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`node_id`, `section`),
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `node_packages` (
	`node_id` text NOT NULL,
	`name` text NOT NULL,
	`version` text NOT NULL,
	`architecture` text NOT NULL,
	`status` text NOT NULL,
	`source` text NOT NULL,
	`description` text,
	`installed_at` integer,
	PRIMARY KEY(`node_id`, `name`, `architecture`, `version`),
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `node_packages_name_version_idx` ON `node_packages` (`name`,`version`,`node_id`);--> statement-breakpoint
CREATE TABLE `node_tags` (
	`node_id` text NOT NULL,
	`tag` text NOT NULL,
	PRIMARY KEY(`node_id`, `tag`),
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `node_tags_tag_idx` ON `node_tags` (`tag`,`node_id`);--> statement-breakpoint
CREATE TABLE `node_updates` (
	`node_id` text PRIMARY KEY NOT NULL,
	`package_manager` text,
	`pending_count` integer NOT NULL,
	`security_count` integer NOT NULL,
	`reboot_required` integer NOT NULL,
	`checked_at` integer NOT NULL,
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `node_updates_pending_idx` ON `node_updates` (`pending_count`);--> statement-breakpoint
CREATE INDEX `node_updates_security_idx` ON `node_updates` (`security_count`);--> statement-breakpoint
ALTER TABLE `nodes` ADD `arch` text;--> statement-breakpoint
ALTER TABLE `nodes` ADD `os_version` text;--> statement-breakpoint
ALTER TABLE `nodes` ADD `kernel` text;--> statement-breakpoint
ALTER TABLE `nodes` ADD `primary_ip` text;--> statement-breakpoint
ALTER TABLE `nodes` ADD `boot_id` text;--> statement-breakpoint
ALTER TABLE `nodes` ADD `display_name` text;--> statement-breakpoint
ALTER TABLE `nodes` ADD `tags` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `nodes` ADD `notes` text;--> statement-breakpoint
ALTER TABLE `nodes` ADD `custom_urls` text DEFAULT '[]' NOT NULL;