//! The ledger's invariants checked against the balances (`streamshare
//! ledger audit`, and every test's `assert_ledger_invariants`): one check.
//!
//! - every balance equals its credits minus its debits, and no balance is
//!   negative except a debt left by a refund (of a payment or a purchase);
//! - the sign-up coins part of a balance lies within `0..=balance`;
//! - coins neither appear nor vanish: balances plus the coins held on
//!   private sessions equal grants + purchases + payout releases − purchase
//!   refunds − payout holds;
//! - every entry moves a positive amount in the direction its kind allows;
//! - a viewer is charged at most once per live session, every charge has its
//!   access record and every access record its charge;
//! - a refund gives back exactly its payment, at most once;
//! - a purchase is credited at most once, with its pack's coins, exactly
//!   when it is `paid` or `refunded`, and taken back at most once, exactly
//!   when it is `refunded`;
//! - a private session holds what its holds minus its charges and releases
//!   say (never less than nothing), and nothing once it is over.
//!
//! The collections are read in one snapshot transaction where the database
//! offers it, so money moving meanwhile does not show as a mismatch.

use std::collections::{HashMap, HashSet};
use std::fmt;

use futures::TryStreamExt;
use mongodb::ClientSession;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReadConcern;

use crate::db::Db;
use crate::error::ApiError;

/// An account a problem is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: ObjectId,
    /// Empty when the ledger names an account that no longer exists.
    pub username: String,
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.username.is_empty() {
            write!(f, "{}", self.id)
        } else {
            write!(f, "{} ({})", self.username, self.id)
        }
    }
}

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The account whose balance is wrong, when the problem is one.
    pub account: Option<Account>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.account {
            Some(account) => write!(f, "account {account}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What the audit found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub accounts: usize,
    pub entries: usize,
    /// The sum of every balance.
    pub balances: i64,
    /// Coins held on active private sessions.
    pub held: i64,
    /// Coins that entered the platform less those that left it.
    pub issued: i64,
    pub problems: Vec<Problem>,
    /// Read in one snapshot; otherwise collection by collection, where money
    /// moving meanwhile can show as a mismatch that a second run clears.
    pub snapshot: bool,
}

impl Report {
    pub fn is_consistent(&self) -> bool {
        self.problems.is_empty()
    }

    /// The accounts whose balance is wrong, each once.
    pub fn mismatched_accounts(&self) -> Vec<&Account> {
        let mut seen = HashSet::new();
        self.problems
            .iter()
            .filter_map(|p| p.account.as_ref())
            .filter(|a| seen.insert(a.id))
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} accounts, {} ledger entries; balances {} + held on private sessions {} = {} coins, issued {}",
            self.accounts,
            self.entries,
            self.balances,
            self.held,
            self.balances + self.held,
            self.issued
        )?;
        if !self.snapshot {
            f.write_str(" (read collection by collection, not in one snapshot)")?;
        }
        Ok(())
    }
}

/// The collections the audit reads, as they were at one moment.
struct Snapshot {
    users: Vec<Document>,
    transactions: Vec<Document>,
    access: Vec<Document>,
    purchases: Vec<Document>,
    private_sessions: Vec<Document>,
}

/// Checks the ledger against the balances; see the module's rules.
pub async fn audit(db: &Db) -> Result<Report, ApiError> {
    let (data, snapshot) = read(db).await?;
    Ok(Report {
        snapshot,
        ..check(&data)
    })
}

/// The collections, and whether they were read in one snapshot.
async fn read(db: &Db) -> Result<(Snapshot, bool), ApiError> {
    let mut session = db.database().client().start_session().await?;
    let began = session
        .start_transaction()
        .read_concern(ReadConcern::snapshot())
        .await;
    if began.is_ok() {
        let taken = read_with(db, Some(&mut session)).await;
        // Read only: nothing to keep.
        let _ = session.abort_transaction().await;
        if let Ok(taken) = taken {
            return Ok((taken, true));
        }
    }
    // No snapshot reads here (a standalone server, an older one): one
    // collection after another.
    Ok((read_with(db, None).await?, false))
}

async fn read_with(db: &Db, mut s: Option<&mut ClientSession>) -> Result<Snapshot, ApiError> {
    Ok(Snapshot {
        users: all(db, "users", s.as_deref_mut()).await?,
        transactions: all(db, "transactions", s.as_deref_mut()).await?,
        access: all(db, "room_access", s.as_deref_mut()).await?,
        purchases: all(db, "purchases", s.as_deref_mut()).await?,
        private_sessions: all(db, "private_sessions", s).await?,
    })
}

async fn all(
    db: &Db,
    collection: &str,
    session: Option<&mut ClientSession>,
) -> Result<Vec<Document>, ApiError> {
    let collection = db.database().collection::<Document>(collection);
    Ok(match session {
        Some(s) => {
            let mut cursor = collection.find(doc! {}).session(&mut *s).await?;
            let mut docs = Vec::new();
            while let Some(d) = cursor.next(&mut *s).await {
                docs.push(d?);
            }
            docs
        }
        None => collection.find(doc! {}).await?.try_collect().await?,
    })
}

/// A whole number field (stored as either integer width).
fn int(d: &Document, key: &str) -> Option<i64> {
    match d.get(key)? {
        Bson::Int64(n) => Some(*n),
        Bson::Int32(n) => Some(i64::from(*n)),
        _ => None,
    }
}

fn oid(d: &Document, key: &str) -> Option<ObjectId> {
    d.get_object_id(key).ok()
}

fn check(data: &Snapshot) -> Report {
    let names: HashMap<ObjectId, &str> = data
        .users
        .iter()
        .filter_map(|u| Some((oid(u, "_id")?, u.get_str("username").unwrap_or(""))))
        .collect();
    let account = |id: ObjectId| Account {
        id,
        username: names.get(&id).copied().unwrap_or("").to_owned(),
    };
    let mut found = Found::default();

    let amounts: HashMap<ObjectId, i64> = data
        .transactions
        .iter()
        .filter_map(|t| Some((oid(t, "_id")?, int(t, "amount")?)))
        .collect();
    let access_of: HashSet<ObjectId> = data
        .access
        .iter()
        .filter_map(|a| oid(a, "transactionId"))
        .collect();
    let purchases: HashMap<ObjectId, &Document> = data
        .purchases
        .iter()
        .filter_map(|p| Some((oid(p, "_id")?, p)))
        .collect();

    let mut expected: HashMap<ObjectId, i64> = HashMap::new();
    let mut in_debt_allowed: HashSet<ObjectId> = HashSet::new();
    let mut issued = 0i64;
    let mut charged: HashMap<(ObjectId, ObjectId), u32> = HashMap::new();
    let mut refunds: HashMap<ObjectId, u32> = HashMap::new();
    let mut escrow: HashMap<ObjectId, i64> = HashMap::new();
    let mut credited: HashMap<ObjectId, u32> = HashMap::new();
    let mut taken_back: HashMap<ObjectId, u32> = HashMap::new();

    for tx in &data.transactions {
        let id = oid(tx, "_id").map(|i| i.to_hex()).unwrap_or_default();
        let Some(amount) = int(tx, "amount").filter(|a| *a > 0) else {
            found.general(format!("ledger entry {id} moves no positive amount"));
            continue;
        };
        let to = oid(tx, "toUserId");
        let from = oid(tx, "fromUserId");
        if let Some(to) = to {
            *expected.entry(to).or_default() += amount;
        }
        if let Some(from) = from {
            *expected.entry(from).or_default() -= amount;
        }
        let kind = tx.get_str("kind").unwrap_or("");
        let direction = |found: &mut Found, ok: bool, rule: &str| {
            if !ok {
                found.general(format!("ledger entry {id} ({kind}) {rule}"));
            }
        };
        match kind {
            "grant" | "purchase" | "payout_release" => {
                direction(
                    &mut found,
                    from.is_none() && to.is_some(),
                    "must come from outside",
                );
                issued += amount;
            }
            "purchase_refund" | "payout_hold" => {
                direction(
                    &mut found,
                    from.is_some() && to.is_none(),
                    "must leave the platform",
                );
                issued -= amount;
            }
            "private_hold" | "private_charge" | "private_release" => {
                let Some(session) = oid(tx, "liveSessionId") else {
                    found.general(format!("ledger entry {id} ({kind}) names no session"));
                    continue;
                };
                let held = escrow.entry(session).or_default();
                if kind == "private_hold" {
                    direction(
                        &mut found,
                        from.is_some() && to.is_none(),
                        "must leave the viewer",
                    );
                    *held += amount;
                } else {
                    direction(
                        &mut found,
                        from.is_none() && to.is_some(),
                        "must pay from the hold",
                    );
                    *held -= amount;
                }
                if *held < 0 {
                    found.general(format!(
                        "private session {session} paid out more than it held"
                    ));
                }
            }
            "tip" | "stream_join" | "refund" => {
                direction(
                    &mut found,
                    from.is_some() && to.is_some(),
                    "must move between users",
                );
            }
            other => found.general(format!("ledger entry {id} has an unknown kind {other:?}")),
        }
        match kind {
            "stream_join" => {
                let (Some(from), Some(session)) = (from, oid(tx, "liveSessionId")) else {
                    found.general(format!("charge {id} names no viewer or session"));
                    continue;
                };
                let n = charged.entry((from, session)).or_insert(0);
                *n += 1;
                if *n == 2 {
                    found.about(
                        account(from),
                        format!("charged twice for session {session}"),
                    );
                }
                if !oid(tx, "_id").is_some_and(|t| access_of.contains(&t)) {
                    found.general(format!("charge {id} has no access record"));
                }
            }
            "refund" => {
                if let Some(from) = from {
                    in_debt_allowed.insert(from);
                }
                let Some(payment) = oid(tx, "refundOf") else {
                    found.general(format!("refund {id} names no payment"));
                    continue;
                };
                match amounts.get(&payment) {
                    None => found.general(format!("refund {id} gives back no payment")),
                    Some(paid) if *paid != amount => found.general(format!(
                        "refund {id} gives back {amount} of a {paid} coin payment"
                    )),
                    Some(_) => {}
                }
                let n = refunds.entry(payment).or_insert(0);
                *n += 1;
                if *n == 2 {
                    found.general(format!("payment {payment} refunded twice"));
                }
            }
            "purchase" | "purchase_refund" => {
                let Some(purchase) = oid(tx, "purchaseId") else {
                    found.general(format!("{kind} {id} names no purchase"));
                    continue;
                };
                match purchases.get(&purchase) {
                    None => found.general(format!("{kind} {id} is of no purchase")),
                    Some(p) if int(p, "coins") != Some(amount) => found.general(format!(
                        "{kind} {id} moves {amount} coins; purchase {purchase} is of {:?}",
                        int(p, "coins")
                    )),
                    Some(_) => {}
                }
                let counts = if kind == "purchase" {
                    &mut credited
                } else {
                    if let Some(from) = from {
                        in_debt_allowed.insert(from);
                    }
                    &mut taken_back
                };
                let n = counts.entry(purchase).or_insert(0);
                *n += 1;
                if *n == 2 {
                    found.general(format!("purchase {purchase}: {kind} twice"));
                }
            }
            _ => {}
        }
    }

    for id in taken_back.keys() {
        if !credited.contains_key(id) {
            found.general(format!("purchase {id} refunded, never credited"));
        }
    }
    for (id, purchase) in &purchases {
        let state = purchase.get_str("state").unwrap_or("");
        if credited.contains_key(id) != (state == "paid" || state == "refunded") {
            found.general(format!(
                "purchase {id} is {state:?} but was {}credited",
                if credited.contains_key(id) {
                    ""
                } else {
                    "never "
                }
            ));
        }
        if taken_back.contains_key(id) != (state == "refunded") {
            found.general(format!(
                "purchase {id} is {state:?} but was {}taken back",
                if taken_back.contains_key(id) {
                    ""
                } else {
                    "never "
                }
            ));
        }
    }
    if data.access.len() != charged.len() {
        found.general(format!(
            "{} access records for {} charges",
            data.access.len(),
            charged.len()
        ));
    }

    let mut balances = 0i64;
    for user in &data.users {
        let Some(id) = oid(user, "_id") else { continue };
        let mut wrong = |message: String| found.about(account(id), message);
        let Some(coins) = int(user, "coins") else {
            wrong("has no balance".to_owned());
            continue;
        };
        if coins < 0 && !in_debt_allowed.contains(&id) {
            wrong(format!("negative balance {coins} that no refund explains"));
        }
        let bonus = int(user, "bonusCoins").unwrap_or(0);
        if !(0..=coins.max(0)).contains(&bonus) {
            wrong(format!(
                "sign-up coins {bonus} outside 0..={} (the balance)",
                coins.max(0)
            ));
        }
        let ledger = expected.get(&id).copied().unwrap_or(0);
        if coins != ledger {
            wrong(format!("balance {coins}, the ledger says {ledger}"));
        }
        balances += coins;
    }

    let mut held_now = 0i64;
    for session in &data.private_sessions {
        let Some(id) = oid(session, "_id") else {
            continue;
        };
        let held = int(session, "held").unwrap_or(0);
        let ledger = escrow.get(&id).copied().unwrap_or(0);
        if held != ledger {
            found.general(format!(
                "private session {id} holds {held}, the ledger says {ledger}"
            ));
        }
        if session.get_str("state").unwrap_or("") != "active" && held != 0 {
            found.general(format!(
                "private session {id} is over but still holds {held}"
            ));
        }
        held_now += held;
    }
    if balances + held_now != issued {
        found.general(format!(
            "coins appeared or vanished: balances {balances} + held {held_now} = {}, \
             but grants + purchases + payout releases - purchase refunds - payout holds = {issued}",
            balances + held_now
        ));
    }

    Report {
        accounts: data.users.len(),
        entries: data.transactions.len(),
        balances,
        held: held_now,
        issued,
        problems: found.problems,
        snapshot: false,
    }
}

#[derive(Default)]
struct Found {
    problems: Vec<Problem>,
}

impl Found {
    fn general(&mut self, message: String) {
        self.problems.push(Problem {
            account: None,
            message,
        });
    }

    fn about(&mut self, account: Account, message: String) {
        self.problems.push(Problem {
            account: Some(account),
            message,
        });
    }
}
