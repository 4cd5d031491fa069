import type { Store } from '../../db/store.js';
import { AuthError, ConflictError, NotFoundError } from '../../base/errors.js';
import { validatePassword, validateUserName } from '../../base/names.js';
import { hashPassword, newToken, verifyPassword } from './passwords.js';
import type { Clock } from '../../base/ports.js';
import { tokenDigest } from './token-digest.js';

export interface UserDeps {
  store: Store;
  clock: Clock;
  newId: () => string;
}

/** The user a command acts as, established from a session token. */
export interface Actor {
  id: string;
  name: string;
  /** Set when the user acts through the HTTP API (issue 25): recorded on every request row it writes. */
  via?: { kind: 'api'; tokenId: string; tokenName: string } | { kind: 'webhook' };
}

export interface CreatedUser {
  id: string;
  name: string;
  createdAt: string;
  requestId: string;
}

export async function createUser(deps: UserDeps, input: { name: string; password: string }): Promise<CreatedUser> {
  const name = validateUserName(input.name);
  const passwordHash = await hashPassword(validatePassword(input.password));
  const started = deps.clock.now();
  const id = deps.newId();
  const requestId = deps.newId();
  const user = await deps.store
    .transaction(async (tx) => {
      const row = await tx.users.insert({ id, name, passwordHash });
      await tx.requests.insert({ ...finished(deps, requestId, started), userId: id, type: 'user.create', params: { name } });
      return row;
    })
    .catch((err) => {
      if (err instanceof ConflictError) throw nameTaken(name);
      throw err;
    });
  return { id: user.id, name: user.name, createdAt: user.createdAt.toISOString(), requestId };
}

export interface LoginResult {
  userId: string;
  userName: string;
  token: string;
  expiresAt: string;
}

/** One message for an unknown name and a wrong password: no telling which names exist. */
export async function login(deps: UserDeps, input: { name: string; password: string; ttlHours: number }): Promise<LoginResult> {
  const user = await deps.store.users.byName(input.name);
  const ok = user ? await verifyPassword(input.password, user.passwordHash) : false;
  if (!user || !ok) throw new AuthError('wrong user name or password', { code: 'bad_credentials' });
  const token = newToken();
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + input.ttlHours * 3_600_000);
  await deps.store.sessions.removeExpired(now);
  await deps.store.sessions.insert({ tokenSha256: tokenDigest(token), userId: user.id, expiresAt });
  return { userId: user.id, userName: user.name, token, expiresAt: expiresAt.toISOString() };
}

export async function authenticate(deps: UserDeps, token: string): Promise<Actor> {
  const user = await deps.store.sessions.userOf(tokenDigest(token), deps.clock.now());
  if (!user) throw new AuthError('your session has expired or was ended', { code: 'session_expired', hint: 'run faasctl login' });
  return user;
}

export async function logout(deps: UserDeps, token: string): Promise<void> {
  await deps.store.sessions.remove(tokenDigest(token));
}

export async function updateUser(deps: UserDeps, actor: Actor, token: string, change: { name?: string; password?: string }): Promise<Actor & { requestId: string }> {
  const name = change.name === undefined ? undefined : validateUserName(change.name);
  const passwordHash = change.password === undefined ? undefined : await hashPassword(validatePassword(change.password));
  const started = deps.clock.now();
  const requestId = deps.newId();
  const params = { ...(name ? { name, previousName: actor.name } : {}), passwordChanged: Boolean(passwordHash) };
  const row = await deps.store
    .transaction(async (tx) => {
      const updated = await tx.users.update(actor.id, { name, passwordHash });
      if (!updated) throw new NotFoundError(`user "${actor.name}" no longer exists`, { hint: 'faasctl user create' });
      // A new password ends every other session: whoever knew the old one is logged out.
      if (passwordHash) await tx.sessions.removeOthers(actor.id, tokenDigest(token));
      await tx.requests.insert({ ...finished(deps, requestId, started), userId: actor.id, type: 'user.update', params });
      return updated;
    })
    .catch((err) => {
      if (err instanceof ConflictError && name) throw nameTaken(name);
      throw err;
    });
  return { id: row.id, name: row.name, requestId };
}

export async function findUser(deps: UserDeps, name: string): Promise<Actor & { createdAt: string; functions: number }> {
  const user = await deps.store.users.byName(validateUserName(name));
  if (!user) throw new NotFoundError(`user "${name}" not found`, { hint: 'faasctl user list shows the users' });
  return { id: user.id, name: user.name, createdAt: user.createdAt.toISOString(), functions: await deps.store.users.functionCount(user.id) };
}

function nameTaken(name: string): ConflictError {
  return new ConflictError(`user name "${name}" is already taken`, { code: 'name_taken', hint: 'choose another name' });
}

function finished(deps: UserDeps, id: string, started: Date) {
  const end = deps.clock.now();
  return { id, status: 'success' as const, startedAt: started, finishedAt: end, durationMs: end.getTime() - started.getTime() };
}
