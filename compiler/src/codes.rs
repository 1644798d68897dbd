//! Every diagnostic code with a title and the long explanation `palisade explain CODE` prints.
//!
//! Ranges: E00xx-E09xx/W0xxx the front end; E1xxx/W1xxx the verifier (`palisade verify`):
//! E10xx network assertions, E11xx security levels, E12xx approvals, E13xx data flows,
//! E14xx profile checks, E15xx/W15xx rule analysis.

pub struct Code {
    pub code: &'static str,
    pub title: &'static str,
    pub explanation: &'static str,
}

macro_rules! codes {
    ($($code:literal, $title:literal, $text:literal;)*) => {
        pub const CODES: &[Code] = &[$(Code { code: $code, title: $title, explanation: $text }),*];
    };
}

codes! {
"E0001", "syntax error",
"The parser met a token it did not expect. Palisade reports every syntax error of a file in
one pass: after an error it skips to the next statement or item and carries on, so later
errors are real ones too. The help line lists what would have been accepted at that point.

    zone control { security_level 3 network 10.40.0.0/24 }   // fine: statements need no `;`
    zone control { security_level = 3 }                       // error: `=` is not expected";

"E0002", "unreadable text",
"The lexer met characters that form no Palisade token: a stray symbol, an address with an
octet above 255, a network whose prefix is longer than its family allows (`fd00::/129`,
`10.0.0.0/33`), a date that does not exist (`2027-02-30`), an unterminated string, a
byte-order mark anywhere but at the very start of a file. Check the literal; strings use
double quotes and may escape only `\\\"` and `\\\\` (anything else is E0003).";

"E0003", "unknown escape in a string",
"Inside a string a backslash starts an escape, and the language knows two: `\\\"` for a
double quote and `\\\\` for a backslash. Anything else after a backslash is an error rather than
a guess (`\"C:\\new\"` is not a line break, and `\\t` is not a tab: strings hold one line of
text). Write a literal backslash as `\\\\`:

    role vendor \"C:\\\\vendor\\\\tools\"   // fine
    role vendor \"C:\\vendor\\tools\"       // error: unknown escapes `\\v`, `\\t`";

"E0004", "file is not valid UTF-8",
"Palisade reads source files as UTF-8 (a byte-order mark at the start is allowed and
skipped). The file holds a byte sequence that is not UTF-8 at the position shown, usually
because it was saved in a legacy encoding such as Latin-1 or Windows-1252. Save the file as
UTF-8; the error names the first offending byte.";

"E0010", "cannot read an imported file",
"`use \"path.pal\"` names a file relative to the file that contains the `use`. The file could
not be read. Check the path and its permissions. A directory given to `palisade check` loads
all of its `*.pal` files anyway, so imports are only needed to pull in files from elsewhere.";

"E0011", "unknown standard-library module",
"`use std.NAME` imports a module of the standard library embedded in the binary. The modules
are `std.services` (common OT and IT services) and `std.protocols` (Modbus, DNP3 and CIP
catalogues, always imported).";

"E0015", "import outside the project",
"A `use \"…\"` path is relative to the file that contains it and stays inside the project:
the top of the version-control checkout that holds the site (the first directory upwards
with `.git`), or else the site's own directory. An absolute path, or one whose `..` climbs
above that root, is refused before anything is read, so a site under review cannot pull in
(and show in its diagnostics) a file from elsewhere on the machine, such as a CI runner's
secrets. Copy shared files into the project.";

"E0012", "no site declared",
"Every site has exactly one `site \"Name\" { timezone \"Area/City\" }` item, in any of its
files. It names the plant in reports and outputs and fixes the time zone of work-order
windows.";

"E0013", "site declared twice",
"A site is one compilation unit: all of its files share a single `site` item. Remove the
second one, or check the files of two different sites separately.";

"E0014", "missing or invalid time zone",
"The site's time zone is an IANA name such as `Europe/Rotterdam`, `America/Chicago` or `UTC`.
Work-order windows (`window Mon-Fri 06:00-18:00`) are local times in that zone. Palisade
checks the shape of the name (Area/Location), not membership of the tz database.";

"E0101", "undefined name",
"A name was used that no item defines. Names of zones, assets, services, roles, conduits,
devices, groups, constants, work orders and data flows share one namespace per site; the
standard library's services come in with `use std.services`. The help line suggests a
similar name when there is one.";

"E0102", "duplicate definition",
"Two items of a site have the same name. Every item needs a name of its own, because rules,
assertions and outputs refer to items by name. A site's own definition may shadow one of the
standard library (for example its own `modbus` service): that is not an error.";

"E0103", "wrong kind of name",
"A name was found, but it names the wrong kind of item, e.g. a service where a zone is
expected (`conduit c: modbus -> control`). The message says what is expected; the secondary
label shows what the name really is.";

"E0104", "`external` declared",
"`external` is the built-in zone of every address that no declared zone owns: the internet,
vendors, the corporate WAN beyond the site. It has security level 0 and is never trusted. It
cannot be declared; give your zone another name.";

"E0105", "group contains itself",
"A service group or address group refers back to itself through its members, so its
contents are undefined. Break the cycle.";

"E0201", "invalid port specification",
"Port specifications are `tcp/P`, `udp/P`, `tcp/P-Q`, `udp/P-Q` (ports 0-65535, lower
first), `icmp`, `icmp/TYPE`, `icmp/TYPE/CODE`, `icmpv6/…` (0-255), `proto/N` (an IP protocol
number 0-255) and `ethertype/N` (a layer-2 frame type, never routed).";

"E0202", "security level out of range or missing",
"Security levels run from 0 to 4 (IEC 62443 SL 0-4). Every zone declares a target level
SL-T with `security_level`, as a scalar or as a vector over FR1-FR7.";

"E0203", "invalid foundational requirement",
"Security-level vectors and compensating controls name the seven foundational requirements
FR1 (identification and authentication control) to FR7 (resource availability). A vector
gives each of the seven exactly once; write a scalar when all are equal.";

"E0204", "unknown or out-of-range protocol function",
"Protocol constraints name functions from the site's catalogues (`std.protocols`, or the
site's own `protocol` items) or give their numbers: Modbus and DNP3 function codes are
0-255, CIP service codes 0-127, Modbus unit ids 0-255, register addresses 0-65535. Ranges
are written lower first.";

"E0205", "unknown asset kind",
"An asset's `kind` is one of: plc, hmi, historian, engineering_workstation, sis, jump_host,
server, dcs_server, rtu, ied, workstation, network_device, modem, gateway_device, sensor,
drive, other. The kind matters to the default profile (jump hosts, safety systems).";

"E0206", "missing or unsuitable device target",
"Every firewall and gateway names the output it receives: firewalls `nftables`, `iptables`
or `cisco_ios`; gateways `suricata` or `allowlist_json`.";

"E0207", "not an address",
"An address range is written `first-last`, both of one family, lower first. An asset has an
address or a range; a zone has networks (`10.40.0.0/24`); a rule endpoint may be any of them.";

"E0208", "invalid protocol constraints or interface name",
"Protocol constraints (`{ function [...]; unit [...]; register [...] }`) apply only to
services that a gateway can inspect (`inspect modbus`, `dnp3` or `cip`), and only with that
protocol's fields: Modbus `function`, `unit`, `register`; DNP3 `function`; CIP `service`.
Device interface names are written into rulesets, so they are short words of letters,
digits, `.`, `-`, `_` and `/`.";

"E0209", "invalid work-order window",
"A window is `window DAYS HH:MM-HH:MM`: days Mon..Sun as a list or range (`Mon-Fri`,
`Sat,Sun`), times in the site's time zone, the end after the start. Split a window that
crosses midnight in two.";

"E0210", "unknown protocol family",
"Gateways inspect three families of protocol fields: `modbus`, `dnp3` and `cip`. `protocol`
items and `inspect` statements name one of them.";

"E0211", "constant of the wrong type",
"A constant was used where a value of another type is expected, e.g. a string constant as a
port or a network constant as an asset address.";

"E0213", "invalid gateway mode",
"A gateway's `mode` says what it does with the traffic it inspects, and the proofs follow it:

    gateway gw_sis { target suricata; inline between control and safety; mode ips }

- `mode ips` (the default): the gateway is a complete allowlist of its boundary. The flows its
  conduits admit pass, at port level and with their protocol fields; everything else is
  dropped. The proofs count it as a filter that enforces fields.
- `mode ids`: the gateway monitors. It alerts on what the conduits forbid and drops nothing, so
  the proofs treat it as an unfiltered crossing.

Firewalls always enforce and take no `mode`; a gateway takes one `mode`, `ips` or `ids`.";

"E0214", "inspected service that encrypts",
"A service that `provides [confidentiality]` is encrypted on the wire, so a gateway that is
told to `inspect` its protocol fields sees only ciphertext: it could enforce nothing, and in
IPS mode it would drop every session it cannot parse. A service is either encrypted or
inspected, not both. Inspect the plain protocol (`modbus`) and protect it another way, or
drop the `inspect` statement from the encrypted service.";

"E0212", "invalid profile check",
"A `profile` item requires or disables checks of the site-wide profile. The checks are:
external_via_jump_host { min_level N }, firewall_on_conduits { min_level N },
inspected_writes { min_level N }, no_broad_rules { min_level N },
two_person_approval { min_level N; safety_roles [roles] },
break_glass_limits { max_duration D; review_within D }, and dataflow_protection.
Levels are 0-4, durations are written like `4h`. The Palisade default profile (std.profile)
requires all of them; a site adjusts it with its own `profile default { … }`.";

"W0301", "network with host bits set",
"`10.40.0.7/24` means the network `10.40.0.0/24`; write the network address so that the
source says what it means.";

"E0301", "overlapping zone networks",
"Every address belongs to at most one zone. Two zones whose networks overlap make the
owner of an address ambiguous, and with it every rule and proof. Split the networks.";

"E0302", "repeated addressing (NAT)",
"Two zones claim the same network. This is typical of OEM cells that reuse addresses behind
1:1 NAT. NAT is not modelled yet, so such a site cannot be described: give each zone its real,
distinct network (the addresses as the firewall sees them).";

"E0303", "asset outside its zone",
"An asset's address must lie inside one of its zone's networks. If the asset really sits
in another zone's network, move it there; if it has interfaces in two zones, declare the
second with `interface ZONE at ADDRESS` and mark the asset `bridge`.";

"E0304", "duplicate address",
"Two assets (or an asset and another's interface) share an address or overlapping ranges.
Every address identifies at most one asset.";

"E0305", "never-routed address",
"Loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16, fe80::/10), multicast (224.0.0.0/4,
ff00::/8), the limited broadcast and the unspecified range belong to no zone and are never
routed, so no zone network or asset address may lie in them.";

"E0306", "zone without a network",
"A zone owns one or more networks; without one it has no addresses, and nothing can be
said about it. Add `network …`.";

"E0401", "rule source outside the conduit's source zone",
"In `conduit c: A -> B`, every rule's source lies in zone A (and its destination in B): a
conduit is the path between exactly these two zones. For traffic the other way, write a
conduit `B -> A`, or declare the conduit `A <-> B`.";

"E0402", "rule destination outside the conduit's destination zone",
"In `conduit c: A -> B`, every rule's destination lies in zone B. See E0401.";

"E0403", "connection-oriented service on a unidirectional conduit",
"A `unidirectional` conduit models a data diode: it carries only connectionless services
(UDP) from source to destination and nothing back. TCP needs replies, so a TCP service can
never cross it. Use a UDP service (e.g. `syslog_udp`), or drop `unidirectional`.";

"E0404", "layer-2, broadcast or multicast service in a conduit",
"PROFINET DCP/RT, GOOSE, BACnet Who-Is, EtherNet/IP implicit I/O multicast and other
layer-2, broadcast or multicast services stay inside their segment; a routed conduit can
never carry them. Keep such traffic inside the zone.";

"E0405", "conduit between unconnected zones",
"A conduit's rules are enforced on the devices between its zones. When no firewall,
gateway, link or bridge joins the two zones, the conduit has nowhere to run. Declare the
device (`interface \"eth1\" faces control`) or fix the zones.";

"E0406", "conduit from a zone to itself",
"Hosts inside a zone reach each other freely; a conduit joins two different zones.";

"E0407", "bidirectional diode",
"A unidirectional conduit carries traffic one way only; it cannot be declared `<->`.";

"W0401", "unfiltered path between zones",
"A `link` or a bridge asset joins zones with no firewall: every proof treats the joined
zones as one network, and an attacker in one holds a foothold in the other. This is a
warning because it may be intended (a core switch, a dual-homed HMI), but it must be seen.";

"W0403", "encapsulating request allowed",
"CIP service 0x52 is Read Tag Fragmented, and on the Connection Manager it is Unconnected
Send, which wraps any other CIP service (Write Tag included). A gateway matching service codes
sees only the outer 0x52, so a rule that allows it allows every service inside it. The proofs
count such a rule as allowing every CIP service (field-level assertions and the profile see
it so), and this warning says why. Allow the services themselves instead of 0x52 where the
devices allow it.";

"W0402", "conduit without rules",
"A conduit with no `allow` rule permits nothing; it is probably unfinished.";

"E0501", "undeclared dual-homed asset",
"An asset has interfaces in two zones. Such an asset is a bridge: it joins the zones with no
firewall. Palisade accepts it only when declared (`bridge` in the asset body), so that the
decision is visible and every proof counts the asset as a path.";

"W0502", "bridge without a second zone",
"The asset is marked `bridge` but has no interface in another zone.";

"E0601", "compensating control covers no gap",
"A compensating control justifies a gap between an asset's capability SL-C and its zone's
target SL-T on the FRs it covers. When the asset already meets the target on every covered
FR, the control justifies nothing and probably refers to the wrong asset or FRs.";

"W0601", "compensating control covers FRs without a gap",
"Some of the FRs a compensating control lists have no gap; list only the ones it covers.";

"E0602", "compensating control relies on something that does not exist",
"`relies_on gateway X`, `firewall X` and `conduit X` must name an existing item of that kind
(`relies_on isolation` needs no name). The verifier later checks that the reliance holds.";

"E0603", "expired compensating control",
"A compensating control has an expiry date, after which the gap it covers is open again.
Review it: renew the control with a new date, or close the gap. Set `PALISADE_TODAY` to check
against another date.";

"E0604", "incomplete compensating control",
"A compensating control states `covers [FRs]`, `relies_on …`, `because \"…\"`, `owner \"…\"`
and `expires YYYY-MM-DD`. Auditors need all five.";

"E0702", "work order opens a conduit that does not name it",
"`opens [c]` in a work order says which conduits it opens; each must contain at least one
rule `when workorder THIS`. Add the condition to the rules, or remove the conduit from `opens`.";

"W0702", "work-order rule outside the order's scope",
"A rule under `when workorder X` opens only for the assets of an instance's scope. When
neither end of the rule lies in X's scope, no instance can ever open it.";

"E0703", "unsatisfiable approvals",
"With people declared, approvals are checked over real staff: `a and b` needs one distinct
person per role, `N of [roles]` N distinct persons holding one of the roles, and under
`separation_of_duties` a requester who approves nothing. No assignment of the declared people
meets the rule, so the work order could never be approved.";

"E0704", "incomplete work order",
"A work order declares its `scope`, `requested_by`, `approved_by` and `max_duration` (every
opening is time-bounded); an emergency (break-glass) order also declares `review_after`.";

"E0801", "data flow hop carried by no rule",
"A data flow crosses zone boundaries along its hops. Each boundary-crossing hop must be
carried by a conduit rule outside any work order: a push hop `a -> b` by a rule from a to b,
a pull hop by a rule from b to a (the receiver initiates and the data comes back in replies),
an unmarked hop by either.";

"E1001", "`no_path` refuted",
"`palisade verify` found a chain of permitted connections from the first place to the second.
An attacker who holds one host of a zone holds all of it (hosts inside a zone reach each other
freely), crosses into another zone through any conduit rule that admits some packet from it
(initiator to responder; replies open nothing), and crosses links and bridge assets freely.
The diagnostic shows every step: the rule with a concrete packet it admits (found by Z3 and
checked by a second evaluator) and the devices the packet crosses. Narrow or remove a rule on
the path, or scope the assertion (`in base`, `except during X`) if a work order opens the path
on purpose. docs/proofs.md says exactly what the proof covers.";

"E1002", "`only_via` refuted",
"`assert only_via V: A -> B` holds when every chain of permitted connections from A to B
passes V: a device (every packet of some step crosses it), a conduit (some step is one of its
rules) or an asset such as a jump host (some step starts or ends on it). The verifier takes V
out of the network and looks for a chain that remains; the diagnostic shows that chain.";

"E1003", "`isolated` refuted",
"An isolated zone has no permitted connection in or out, and no link or bridge asset joining
it to another zone. The diagnostic names one rule, link or bridge that breaks the isolation.";

"E1004", "`reachable` refuted",
"No packet of the service from the first place reaches the second in the named scenario: no
open rule admits it, a work order that would open it is closed, or the devices on the way do
not carry it. The notes list what the verifier found between the zones.";

"E1005", "property could not be decided",
"The solver gave up on a query (a timeout or `unknown`). Palisade never takes an undecided
property as proved, so `palisade verify` exits 1. Raise the per-query timeout with
`--timeout-ms`, or look at the dumped query (`--emit-smt2 DIR`).";

"E1006", "the proof engines disagree",
"Every verdict of the exact interval engine is cross-checked by Z3 (and every witness packet by
a third, concrete evaluator). They disagreed here. This is a bug in Palisade: please report it
with the query dump of `--emit-smt2 DIR`. The affected verdict is not reported as proved.";

"W1006", "solver query not written",
"`--emit-smt2 DIR` could not write a query file. Verification went on; check the directory.";

"E1101", "achieved security level below the target",
"SL-A of a zone, per FR, is the lowest capability SL-C of its assets (an undeclared capability
counts as 0). A compensating control raises its asset to the zone's SL-T on the FRs it covers,
but only if its reliance holds: `relies_on gateway G` needs G on every path of every
connection into the zone (and its joined zones) and every such connection restricted to named
functions of an inspected protocol or carried by a service that provides integrity;
`firewall F` needs F on every such path; `conduit C` needs every connection into the zone to
be a rule of C; `isolation` needs no connection in or out. Every zone is checked in the base
state; `assert security_level Z` checks the scenarios of its scope.";

"E1201", "work-order approvals refuted",
"Every opening of a work order is time-bounded (`max_duration`), a quorum needs as many
distinct persons as it has places, and under `separation_of_duties` whoever requests must leave
enough other declared people to approve. The message names the person or limit at fault.";

"E1202", "two-person approval refuted (profile `two_person_approval`)",
"The Palisade default profile requires work orders whose scope touches a zone with SL-T of
min_level or more (on any FR) to need two distinct approvers, one of them holding a safety role
(`safety_roles`). The counterexample is a set of declared people who could approve without a
safety role among them. Require a safety role explicitly, e.g. `approved_by safety_engineer
and control_engineer`. Emergency (break-glass) orders are checked by `break_glass_limits`.";

"E1203", "break-glass limits refuted (profile `break_glass_limits`)",
"An emergency work order has exactly one approver, lasts at most max_duration and is reviewed
within review_within after closing.";

"E1301", "data flow hop not protected",
"A data flow marked `integrity` or `confidentiality` crosses a zone boundary on a service that
does not provide it (plain Modbus provides neither; `opcua_sign` provides integrity; `https`
and `ssh` both). Push hops are carried by rules from sender to receiver, pull hops by rules
from receiver to sender.";

"E1401", "remote access bypasses the jump host (profile `external_via_jump_host`)",
"With every asset of kind `jump_host` taken out of the network, a chain of permitted
connections still leads from `external` into a zone of SL-T min_level or more.";

"E1402", "conduit without a firewall (profile `firewall_on_conduits`)",
"A conduit into a zone of SL-T min_level or more has a path with no firewall or gateway on it
(a link or a bridge asset).";

"E1403", "uninspected industrial writes (profile `inspected_writes`)",
"A Modbus, DNP3 or CIP rule into a zone of SL-T min_level or more could write: it is not
restricted to named functions, or no inline gateway enforces the restriction on every path.
A compensating control on every destination asset whose reliance holds also satisfies it.
Read-only polling of a safety system by its DCS through an inspected conduit passes.";

"E1404", "broad rule into a high-level zone (profile `no_broad_rules`)",
"A rule into a zone of SL-T min_level or more admits `external`, `any` or a whole zone as its
source. Name the hosts that need the access.";

"E1501", "rule opens an SL 3 zone to `any`",
"A rule into a zone of SL-T 3 or more names `any` as its destination (every host of the zone,
present and future) or as its source. Name the assets instead.";

"W1501", "rule matches no packet",
"No packet satisfies the rule, e.g. the ends are of different address families, or an ICMP
(IPv4) service towards IPv6-only hosts. Both proof engines agree. The rule is dead text.";

"W1502", "shadowed rule",
"An earlier rule of the same zone pair, open whenever this one is, admits every packet this
rule admits; this rule never matches first. Rules are compared as written, protocol fields
included. Remove it or narrow the earlier rule.";

"W1503", "redundant rule",
"The other rules of the same zone pair that are open whenever this one is admit together every
packet this rule admits. A work-order rule covered by standing rules opens nothing.";

"W1504", "protocol constraints not enforced",
"Protocol fields (Modbus functions, units, registers; DNP3 functions; CIP services) are
enforced only by inline gateways. A path between the rule's zones has no gateway, so the
constraint is documentation there and every proof reasons at port level.";

"W0901", "unused role",
"No work order requests or approves with this role.";

"W0902", "unused service",
"The site defines a service that no rule, group or assertion uses.";

"W0903", "unused zone",
"No conduit, link, work order or assertion names the zone. If it is meant to be isolated,
say so with `assert isolated ZONE` so that the claim is proved.";

"E0910", "interface name unusable on a Linux firewall",
"nftables and iptables name interfaces in the ruleset (`iifname \"eth0\"`, `-i eth0`). A Linux
interface name has 1 to 15 characters; Palisade accepts letters, digits, `_`, `.`, `-` and `@`,
so that no name can carry quoting or syntax into a ruleset. An IOS name such as
`GigabitEthernet0/1` belongs on a `cisco_ios` firewall; rename the interface or change the
firewall's target.";

"E0911", "interface name unusable on Cisco IOS",
"IOS interface names start with a letter and use letters, digits, `/`, `.`, `:` and `-`
(`GigabitEthernet0/1.101`, `Tunnel10`). The name is written into `interface` lines and ACL
names, so anything else is refused rather than escaped.";

"E0912", "IPv6 work-order rule on Cisco IOS",
"On IOS, a rule under `when workorder X` is gated by network object groups that
`palisade workorder open` fills with the instance's scope. IOS IPv6 access lists take no such
groups, so the rule cannot be opened per instance. Put an nftables or iptables firewall on
this path, or keep the rule IPv4.";

"E0913", "firewall ruleset differs from the policy",
"After emitting a firewall's ruleset, `palisade build` reads it back with the project's own
reader and proves with Z3 that it permits exactly the packets the policy permits on that
device (translation validation). The note shows a packet on which they disagree. This is a
bug in Palisade: nothing was written; please report it with the site. `--no-validate` skips
the check in an emergency.";

"E0914", "firewall ruleset not proved equal to the policy",
"Translation validation gave up (the solver timed out or answered unknown). An unproved
ruleset is not written. Try again on a less loaded machine, split the device's rules, or skip
the check with `--no-validate` in an emergency.";

"E0915", "too many topology paths to place rules",
"A conduit's rules go on every device on every path between its zones. Palisade follows at
most 64 simple paths of at most 8 crossings per zone pair; when two zones are joined by more
(several devices whose interfaces each face many zones), some device on a path that was not
followed would get none of the conduit's rules and drop traffic that the proofs say passes.
The build stops instead of writing such rulesets. Declare interfaces so that each faces only
the zones it actually reaches; that removes the spurious paths.";

"E0930", "protocol constraint Suricata cannot enforce",
"The Suricata target (`--target suricata`) turns each rule's protocol constraints into
Suricata 7 rules that alert on (or, with `--ips`, drop) every other request. Some
constraints have no faithful Suricata 7 form, and a gateway that silently skipped them would
let through what the policy forbids, so the build stops instead:

- Modbus function codes other than 1-24 and 43: Suricata compares every code it has no name
  for equal to every other such code, so it cannot allow one alone.
- Modbus `register` constraints on read_write_multiple_registers (23), whose read range
  Suricata does not check, or on read_fifo_queue (24), whose pointer address it does not
  see; also a `register` constraint without a function list, which allows both.
- DNP3 function lists without `confirm` (0): Suricata makes no transaction of application
  confirms, so it can never forbid one.
- CIP services above 99: `cip_service` reads two decimal digits (100 would match 10).

Change the rule as the help line says, or give the gateway the `allowlist_json` target.
See docs/gateways.md.";

"E0931", "inspected protocol over UDP on a Suricata gateway",
"The Suricata target inspects Modbus, DNP3 and EtherNet/IP over TCP only (Suricata 7 has no
Modbus or DNP3 parser for UDP). A rule with protocol constraints on a UDP service (such as
`dnp3_udp`) cannot be enforced: use the TCP service or the `allowlist_json` target.";

"E0955", "workflow opens access unsafely",
"Palisade checks every workflow it emits: each path to the \"open access\" task passes every
approval place and the approval check, and every path from it reaches \"close access\" with
nothing but timer-bounded waits on the way. This error means the generated workflow broke
that rule; it is a bug in Palisade, please report it with the site.";
}

pub fn lookup(code: &str) -> Option<&'static Code> {
    let code = code.trim().to_ascii_uppercase();
    CODES.iter().find(|c| c.code == code)
}
