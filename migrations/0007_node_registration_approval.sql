-- Registration approval (issue 16, C18): the node_registrations table and enrollment_keys.requires_approval
-- arrived with 0005; this migration gives the operator role the permissions of the new routes.
-- hand-written:
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'node_registrations:read') WHERE id = '00000000-0000-4000-8000-000000000002' AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'node_registrations:read');--> statement-breakpoint
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'node_registrations:write') WHERE id = '00000000-0000-4000-8000-000000000002' AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'node_registrations:write');
