// Generated from the Rust types by `session-warden`'s bindings test (ts-rs): do not edit.
// UPDATE_BINDINGS=1 cargo test -p session-warden bindings

export type AccountId = string;

export type SessionId = string;

export type DialectKind = "secureauth" | "node-auth" | "hectoday" | "rtc" | "node-auth-admin";

export type Account = { id: AccountId, label: string, baseUrl: string, dialect: DialectKind, 
/**
 * What the user signs in with: an email, a username or a phone number.
 */
login: string, addedAt: string, };

export type NewAccount = { url: string, dialect: DialectKind, login: string, label: string | null, };

export type DeviceKind = "desktop" | "mobile" | "tablet" | "tv" | "unknown";

export type Device = { kind: DeviceKind, browser: string | null, os: string | null, 
/**
 * What a person calls it: "Firefox on Linux".
 */
label: string, };

export type Session = { account: AccountId, id: SessionId, 
/**
 * Shared: the sessions of one listing that name one device share one `Device`.
 */
device: Device, 
/**
 * The raw user agent, where the server gives it (shared like `device`).
 */
userAgent: string | null, ip: string | null, 
/**
 * Where the server places it ("Berlin, DE"), when it says.
 */
location: string | null, 
/**
 * The person's own name for it ("Mum's iPad"), kept in the ledger.
 */
label: string | null, createdAt: string | null, lastActiveAt: string | null, expiresAt: string | null, 
/**
 * The session Session Warden itself signed in with.
 */
isCurrent: boolean, };

export type Snapshot = { account: AccountId, sessions: Array<Session>, fetchedAt: string, };

export type Severity = "notice" | "warning" | "alert";

export type RuleId = "new-device" | "new-network" | "new-country" | "impossible-travel" | "too-many-sessions" | "odd-client" | "unusual-hour" | "token-hopping" | "shared-address";

export type Finding = { rule: RuleId, severity: Severity, 
/**
 * One line, for a person: "A device never seen on this account: curl".
 */
reason: string, };

export type Thresholds = { 
/**
 * More live sessions than this is worth a warning.
 */
maxSessions: number, 
/**
 * Faster than an airliner, with some slack.
 */
maxSpeedKmh: number, 
/**
 * Closer than this is the same area, whatever the time.
 */
minTravelKm: number, 
/**
 * How many sign-ins the account needs before an hour can be called unusual.
 */
hourMinHistory: number, 
/**
 * An hour with at most this share of the account's sign-ins is unusual.
 */
hourRareShare: number, 
/**
 * Countries that are never "new" (ISO codes).
 */
homeCountries: Array<string>, 
/**
 * An unfamiliar address on this many of the user's accounts at once is an alert.
 */
sharedAddressAccounts: number, };

export type HistoryEntry = { seq: number, at: string, account: string, 
/**
 * `appeared`, `suspicious`, `ended`, `stale`, `recovered`, `trusted`.
 */
kind: string, session: string | null, device: string | null, ip: string | null, severity: string | null, 
/**
 * The reasons, how it ended, or the error, in words.
 */
detail: string, };

export type ErrorCode = "BAD_CREDENTIALS" | "BAD_CODE" | "NEEDS_SIGN_IN" | "UNREACHABLE" | "REFUSED" | "NOT_FOUND" | "INVALID_INPUT" | "KEYRING" | "INTERNAL";

export type Health = "connecting" | "ok" | "stale" | "needs-sign-in";

export type Stale = { since: string, error: string, needsSignIn: boolean, };

export type AccountView = { account: Account, health: Health, 
/**
 * `None` until the first poll answers.
 */
snapshot: Snapshot | null, stale: Stale | null, 
/**
 * Live sessions the rules flagged, with the reasons, worst first.
 */
suspicious: { [key in SessionId]: Array<Finding> }, 
/**
 * What watching this account costs, when it costs something (node-auth's one refresh
 * token per user).
 */
caveat: string | null, 
/**
 * When this view was made, in changes (see `Views`): of two, the window keeps the newer.
 */
revision: number, };

export type QuietHours = { from: number, to: number, };

export type AppSettings = { 
/**
 * Seconds between two polls of an account.
 */
pollSeconds: number, notifications: boolean, 
/**
 * Local hours in which only the most serious alerts notify.
 */
quietHours: QuietHours | null, startAtLogin: boolean, };

export type Settings = { app: AppSettings, rules: Thresholds, };

export type UiError = { code: ErrorCode, message: string, };

export type Question = { account: string, question: string, 
/**
 * What kind of code, for the input's hints.
 */
kind: "sms" | "totp" | "totp-or-backup", };

export type Focus = { account: AccountId, session: SessionId | null, };
