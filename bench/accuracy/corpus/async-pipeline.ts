/**
 * An async loader: each user is fetched from a fake store through await,
 * normalised by a small helper that V8 inlines into the async function, and
 * batches are awaited with Promise.all.
 */
interface User {
  id: number;
  name: string;
  roles: string[];
  meta: { created: number; active: boolean };
}

const users: User[] = [];
const sessions: Array<{ user: number; token: string }> = [];
export const kept = { normalise: users, openSession: sessions };
export const grown = { users, sessions };

const ROLES = ['admin', 'editor', 'viewer'];

async function fetchRow(id: number): Promise<[number, string, number]> {
  await null;
  return [id, ROLES[id % 3], id * 1000];
}

function normalise(id: number, role: string, created: number): User {
  return { id, name: 'u' + id, roles: [role], meta: { created, active: id % 2 === 0 } }; // @site normalise
}

async function loadUser(id: number): Promise<User> {
  const [rowId, role, created] = await fetchRow(id);
  const user = normalise(rowId, role, created);
  users.push(user); // @store users
  return user;
}

async function openSession(user: User): Promise<void> {
  await null;
  sessions.push({ user: user.id, token: `s${user.id}` }); // @site openSession @store sessions
}

export async function run(n: number): Promise<number> {
  let active = 0;
  for (let i = 0; i < n; i += 8) {
    const batch = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((k) => loadUser(i + k)));
    for (const u of batch) if (u.meta.active) active++;
    if (i % 32 === 0) await openSession(batch[0]);
  }
  return active;
}
