/** "Unlimited" where the seed wants an integer capacity: nothing in Outpost caps the fleet per admin. */
export const UNLIMITED = 2_147_483_647;
