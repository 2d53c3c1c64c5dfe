// Generated from the Rust types by `session-warden`'s bindings test (ts-rs): do not edit.
// UPDATE_BINDINGS=1 cargo test -p session-warden bindings

export type AccountId = string;

export type SessionId = string;

export type DialectKind = "secureauth" | "node-auth" | "hectoday" | "rtc" | "node-auth-admin" | "better-auth" | "matrix" | "allauth" | "home-assistant";

export type SignInForm = { 
/**
 * What the login field is: "Email", "Phone number", "User id"…
 */
loginLabel: string, 
/**
 * What the secret field is ("Password", "Admin secret"); `None` where the API has no
 * password (SecureAuth signs in with a code sent to the phone).
 */
passwordLabel: string | null, 
/**
 * The one-time codes it may ask for, in words; `None` where it never asks.
 */
codes: string | null, 
/**
 * What an account of this API needs when it can no longer sign in by itself.
 */
signInAgain: string, };

export type Account = { id: AccountId, label: string, baseUrl: string, dialect: DialectKind, 
/**
 * What the user signs in with: an email, a username or a phone number.
 */
login: string, addedAt: string, };

export type NewAccount = { url: string, dialect: DialectKind, login: string, label: string | null, };

export type DeviceKind = "desktop" | "mobile" | "tablet" | "tv" | "token" | "unknown";

export type Device = { kind: DeviceKind, browser: string | null, os: string | null, 
/**
 * What a person calls it: "Firefox on Linux".
 */
label: string, };

export type Operator = { 
/**
 * Its autonomous system number, where the database knows it.
 */
asn: number | null, name: string, 
/**
 * A hosting, cloud or VPN provider: sign-ins from there are scripts or VPNs, not homes.
 */
hosting: boolean, 
/**
 * A mobile carrier: its addresses are placed where its records say, not where the
 * phone is, so only their country holds.
 */
mobile: boolean, };

export type Coordinates = { lat: number, lon: number, };

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
 * Where it is ("Berlin, DE"): the server's word where it gives one, else the IP
 * database's.
 */
location: string | null, 
/**
 * Where on the map, where known (the IP database, for the travel rules).
 */
coordinates: Coordinates | null, 
/**
 * How far from `location` the device may really be, in km: a place from an IP database
 * is a guess (a mobile carrier's addresses sit where its records say, not where the
 * phone is), a server's own place is taken as it comes. `None`: not placed.
 */
locationMarginKm: number | null, 
/**
 * Where it is, in the words the person is shown, as sure as the data allows: "Berlin,
 * DE", "near Berlin, DE", or "Germany" where the city is not to be trusted. Decided in
 * core with `location` (`geo::shown`); every front end shows this, never `location`.
 */
locationShown: string | null, 
/**
 * Whose network its address is on (the IP database), shared like `device`.
 */
operator: Operator | null, 
/**
 * The person's own name for it ("Mum's iPad"), kept in the ledger.
 */
label: string | null, createdAt: string | null, lastActiveAt: string | null, expiresAt: string | null, 
/**
 * What the server sent of this session that could not be read, in words ("its last
 * activity is in the year 262142"): that field is left empty, the rest of the session
 * (and of the listing) is kept, and every front end says so with the session.
 */
unreadable: string | null, 
/**
 * The session Session Warden itself signed in with.
 */
isCurrent: boolean, 
/**
 * A session Session Warden held before (a sign-in it has since replaced) that the
 * server still lists: ours, though not the one we hold. Known from the ledger, which
 * keeps the id of every session we signed in with, never from what the server says.
 */
oursEarlier: boolean, };

export type Snapshot = { account: AccountId, sessions: Array<Session>, fetchedAt: string, };

export type Severity = "notice" | "warning" | "alert";

export type RuleId = "new-device" | "new-network" | "new-country" | "impossible-travel" | "too-many-sessions" | "odd-client" | "unusual-hour" | "token-hopping" | "shared-address" | "new-city" | "hosting-network" | "several-signs" | "new-token";

export type Finding = { rule: RuleId, severity: Severity, 
/**
 * One line, for a person: "A device never seen on this account: curl".
 */
reason: string, 
/**
 * Already told for this device and network (or this session): shown with the session
 * and kept in the history, but never notified twice.
 */
repeat: boolean, 
/**
 * An alert the defence may act on: its rule says it cannot be the person (a copied
 * cookie, one session in two places at once, a session moved to a server's network).
 * Never a warning or a notice, and never a guess a database could make of their phone.
 */
act: boolean, };

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
 * How many sign-ins and uses the account needs before an hour can be called unusual.
 */
hourMinHistory: number, 
/**
 * How many days of watching before an hour can be called unusual (a first day's
 * sign-ins say nothing of the mornings).
 */
hourMinDays: number, 
/**
 * An hour with at most this share of the account's sign-ins and uses is unusual.
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

export type HistoryKind = "appeared" | "suspicious" | "ended" | "stale" | "recovered" | "trusted" | "sign-in-ending" | "trimmed";

export type HistoryEntry = { seq: number, at: string, account: string, kind: HistoryKind, session: string | null, device: string | null, ip: string | null, 
/**
 * "Berlin, DE · Deutsche Telekom AG", as known then.
 */
place: string | null, severity: Severity | null, 
/**
 * The reasons, how it ended, or the error, in words.
 */
detail: string, };

export type ErrorCode = "BAD_CREDENTIALS" | "BAD_CODE" | "NEEDS_SIGN_IN" | "UNREACHABLE" | "REFUSED" | "NOT_FOUND" | "INVALID_INPUT" | "KEYRING" | "STORAGE" | "INTERNAL";

export type Health = "connecting" | "ok" | "stale" | "needs-sign-in";

export type Level = "quiet" | "attention" | "suspicious";

export type Stale = { since: string, error: string, needsSignIn: boolean, };

export type Defence = { "mode": "tell" } | { "mode": "wait", seconds: number, } | { "mode": "at-once" };

export type PendingSignOut = { account: AccountId, session: SessionId, 
/**
 * The device, with where it is: "Chrome on Windows (São Paulo, BR)".
 */
device: string, rule: RuleId, 
/**
 * The alert's reason, in its rule's words.
 */
reason: string, since: string, 
/**
 * When the wait runs out; the watcher polls the account then (not only at its
 * interval) and signs it out.
 */
due: string, 
/**
 * Why the last attempt failed, when one did (the server is down): tried again at each
 * poll.
 */
lastError: string | null, };

export type DefenceChoice = { defence: Defence, title: string, explained: string, chosen: boolean, };

export type AccountView = { account: Account, health: Health, 
/**
 * The account's own level: suspicious with a flagged live session, attention when it
 * cannot be checked, quiet otherwise (the tray's level is the worst of these).
 */
level: Level, 
/**
 * Its state in a few words, as the window's list of accounts shows it: "3 sessions",
 * "1 suspicious", "Cannot check since 14:02", "Needs sign-in", "Connecting…".
 */
summary: string, 
/**
 * `None` until the first poll answers.
 */
snapshot: Snapshot | null, stale: Stale | null, 
/**
 * Live sessions the rules flagged, with the reasons, worst first.
 */
suspicious: { [key in SessionId]: Array<Finding> }, 
/**
 * The defence's sign-outs not yet done, soonest first: each with its countdown and its
 * alert, and why the last try failed when one did.
 */
signOuts: Array<PendingSignOut>, 
/**
 * What watching this account costs, when it costs something (node-auth's one refresh
 * token per user).
 */
caveat: string | null, 
/**
 * What signing in to it asks (for "Sign in again"), as core says.
 */
signIn: SignInForm, 
/**
 * What the person must read before a sign-out is confirmed, where signing out costs
 * more than the session (Matrix: the device's encryption keys).
 */
revokeWarning: string | null, 
/**
 * Whether Rename names the session on the server, for every client (Matrix), rather
 * than a name of ours.
 */
renamesOnServer: boolean, 
/**
 * Whether a session's address is where it was last seen rather than where it signed
 * in (allauth and Matrix rewrite it with every request).
 */
addressIsLastSeen: boolean, 
/**
 * What the API keeps of its sessions, where less than a person would assume (Home
 * Assistant: no browser, and times of renewal, not use); shown on hover.
 */
whatIsKnown: string | null, 
/**
 * How fine "last active" is, in seconds, where coarser than a poll (Better Auth: a day).
 */
activityGranularitySecs: number | null, 
/**
 * When Session Warden's own sign-in ends, where known (SecureAuth: 7 days after the
 * code; it then needs a new one).
 */
signedInUntil: string | null, 
/**
 * When this view was made, in changes (see `Views`): of two, the window keeps the newer.
 */
revision: number, };

export type IdleAfter = "1w" | "1m" | "3m" | "6m" | "1y";

export type IdlePolicy = { after: IdleAfter, 
/**
 * Trusted ("It's me") devices too; by default they are spared.
 */
includeTrusted: boolean, };

export type IdlePlan = { 
/**
 * Not used for longer than the policy allows: signed out when it runs.
 */
ending: Array<Session>, 
/**
 * Idle as long, but trusted ("It's me"), and the policy spares trusted devices.
 */
sparedTrusted: Array<Session>, 
/**
 * The API gives no last activity for these: the policy cannot tell, and does not guess.
 */
unknownActivity: Array<Session>, 
/**
 * What the person should know of this API's activity times (Better Auth: to the day).
 */
note: string | null, };

export type Titled<T> = { value: T, title: string, };

export type Words = { 
/**
 * Every API core speaks, named as people know it, for the add form's list.
 */
dialects: Array<Titled<DialectKind>>, 
/**
 * Every kind of history entry with its title ("Signed in", "Cannot check"…).
 */
historyKinds: Array<Titled<HistoryKind>>, 
/**
 * Every idle policy's span with its words ("a week", "3 months"…).
 */
idleAfter: Array<Titled<IdleAfter>>, 
/**
 * What trusting a device ("It's me") does, to follow its name and a colon.
 */
trusted: string, };

export type QuietHours = { from: number, to: number, };

export type AppSettings = { 
/**
 * Seconds between two polls of an account.
 */
pollSeconds: number, notifications: boolean, 
/**
 * Local hours in which only alerts (the top severity) notify.
 */
quietHours: QuietHours | null, startAtLogin: boolean, 
/**
 * Tell of every new sign-in, a known device's from a known network too (off: those
 * are history only).
 */
everySignIn: boolean, 
/**
 * An IP database (file or folder) to use instead of the ones found on their own.
 */
ipDatabase: string | null, };

export type About = { version: string, license: string, ipDatabases: Array<string>, credits: Array<string>, 
/**
 * What the person must know when IP data is missing (`GeoIp::missing`): the window
 * says it above every view, since the rules on places are silent without it.
 */
ipDataMissing: string | null, };

export type Settings = { app: AppSettings, rules: Thresholds, 
/**
 * What the About line says; the window never sends it back.
 */
about: About, };

export type UiError = { code: ErrorCode, message: string, };

export type Question = { account: string, question: string, 
/**
 * What kind of code, for the input's hints.
 */
kind: "sms" | "totp" | "totp-or-backup", };

export type Focus = { account: AccountId, session: SessionId | null, };

export type DemoInfo = { 
/**
 * The bundled mock server's address.
 */
server: string, 
/**
 * The labels of the made-up accounts it watches.
 */
accounts: Array<string>, };
