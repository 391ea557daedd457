ALTER TABLE `nodes` ADD `cpu_usage_percent` real;--> statement-breakpoint
ALTER TABLE `nodes` ADD `memory_usage_percent` real;--> statement-breakpoint
ALTER TABLE `nodes` ADD `disk_usage_percent` real;--> statement-breakpoint
ALTER TABLE `nodes` ADD `load_1m` real;--> statement-breakpoint
ALTER TABLE `nodes` ADD `metrics_at` integer;--> statement-breakpoint
CREATE INDEX `nodes_cpu_usage_idx` ON `nodes` (`cpu_usage_percent`,`id`);--> statement-breakpoint
CREATE INDEX `nodes_memory_usage_idx` ON `nodes` (`memory_usage_percent`,`id`);--> statement-breakpoint
CREATE INDEX `nodes_disk_usage_idx` ON `nodes` (`disk_usage_percent`,`id`);--> statement-breakpoint
CREATE INDEX `nodes_load_1m_idx` ON `nodes` (`load_1m`,`id`);