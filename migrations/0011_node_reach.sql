-- Reaching into a node (issue 20): processes, logs and files need no table; the operator role gains
-- their permissions. Append-style, so other migrations that extend the role compose with this one.
-- hand-written:
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'processes:read') WHERE id = '00000000-0000-4000-8000-000000000002' AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'processes:read');--> statement-breakpoint
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'processes:signal') WHERE id = '00000000-0000-4000-8000-000000000002' AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'processes:signal');--> statement-breakpoint
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'logs:read') WHERE id = '00000000-0000-4000-8000-000000000002' AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'logs:read');--> statement-breakpoint
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'files:read') WHERE id = '00000000-0000-4000-8000-000000000002' AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'files:read');--> statement-breakpoint
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'files:write') WHERE id = '00000000-0000-4000-8000-000000000002' AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'files:write');
