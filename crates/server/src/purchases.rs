//! Buying coins: a purchase of a configured pack is created `pending` with
//! the provider's checkout, becomes `paid` (coins credited: a `purchase`
//! ledger entry) when the provider says it was paid, `expired` when the
//! checkout lapsed, and `refunded` (coins taken back: `purchase_refund`)
//! when the payment was refunded. Every change is one transaction; a
//! provider event is recorded in the same transaction as its effect, so a
//! redelivery (in any order, concurrently) changes nothing.
//!
//! Refunds of coins already spent leave the buyer's balance below zero: a
//! debt that later purchases or earnings pay off first (no spend passes a
//! balance below its price). The event is never dropped.

use axum::http::{HeaderMap, StatusCode};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::AuthUser;
use crate::db::Db;
use crate::error::{ApiError, Result};
use crate::ledger::{self, Bonus, Guard, Keyed};
use crate::models::{
    KIND_PURCHASE, KIND_PURCHASE_REFUND, PURCHASE_EXPIRED, PURCHASE_PAID, PURCHASE_PENDING,
    PURCHASE_REFUNDED, Purchase, PurchaseDoc, StripeEventDoc, TxDoc,
};
use crate::payments::CheckoutRequest;
use crate::state::AppState;

/// `GET /api/coins/packs`: the packs and the provider (`null`: purchases
/// are not set up on this server).
pub fn packs(state: &AppState) -> Value {
    let items: Vec<Value> = state
        .settings
        .coin_packs
        .0
        .iter()
        .map(|p| json!({ "id": p.id, "coins": p.coins, "price": p.price, "currency": p.currency }))
        .collect();
    json!({ "items": items, "provider": state.payments.as_ref().map(|p| p.name()) })
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutAnswer {
    pub purchase: Purchase,
    pub url: String,
}

/// What an `Idempotency-Key` of a checkout keeps: the purchase it made.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckoutTicket {
    purchase_id: ObjectId,
}

fn not_found() -> ApiError {
    <crate::ids::Purchase as crate::ids::Kind>::not_found()
}

/// `POST /api/coins/checkout`: a pending purchase and the provider's
/// checkout URL. The same `Idempotency-Key` answers the same purchase (and
/// Stripe gets the purchase id as its own idempotency key, so asking again
/// never makes a second session).
pub async fn checkout(
    state: &AppState,
    user: &AuthUser,
    headers: &HeaderMap,
    pack_id: &str,
) -> Result<CheckoutAnswer> {
    let pack_id = pack_id.trim();
    let pack = state
        .settings
        .coin_packs
        .get(pack_id)
        .ok_or_else(|| ApiError::invalid("packId", "There is no such coin pack."))?;
    let Some(provider) = state.payments.clone() else {
        return Err(ApiError::unavailable(
            "payments_not_configured",
            "Buying coins is not set up on this server (see docs/payments.md).",
        ));
    };
    let keyed = Keyed::new(user.id, headers, &format!("checkout|{pack_id}"))?;
    let db = &state.db;
    let purchase_id = crate::transaction!(db, |s| {
        if let Some(ticket) = keyed.replay::<CheckoutTicket>(db, s).await? {
            return Ok(ticket.purchase_id);
        }
        let purchase = PurchaseDoc {
            id: ObjectId::new(),
            user_id: user.id,
            pack_id: pack.id.clone(),
            coins: pack.coins,
            price: pack.price,
            currency: pack.currency.clone(),
            state: PURCHASE_PENDING.into(),
            provider: provider.name().into(),
            test: provider.is_test(),
            created_at: DateTime::now(),
            paid_at: None,
            ended_at: None,
            checkout_url: None,
            session_id: None,
            payment_intent: None,
        };
        db.purchases()
            .insert_one(&purchase)
            .session(&mut *s)
            .await?;
        keyed
            .remember(
                db,
                s,
                &CheckoutTicket {
                    purchase_id: purchase.id,
                },
            )
            .await?;
        Ok(purchase.id)
    })?;
    let mut purchase = db
        .purchases()
        .find_one(doc! { "_id": purchase_id, "userId": user.id })
        .await?
        .ok_or_else(not_found)?;
    if let Some(url) = purchase.checkout_url.clone() {
        return Ok(CheckoutAnswer {
            purchase: Purchase::from(&purchase),
            url,
        });
    }
    let public = state.settings.public_url();
    let id = purchase.id.to_hex();
    let request = CheckoutRequest {
        purchase: &purchase,
        product_name: format!("{} StreamShare coins", purchase.coins),
        success_url: format!("{public}/wallet/return?purchase={id}"),
        cancel_url: format!("{public}/wallet?cancelled={id}"),
        test_url: format!("{public}/wallet/test-checkout/{id}"),
    };
    let created = provider.create_checkout(&request).await;
    let checkout = match created {
        Ok(checkout) => checkout,
        Err(err) => {
            tracing::warn!(error = %err, purchase = %id, "the payment provider refused a checkout");
            // Without a key nobody can ask again for this purchase: it ends.
            // With one, it stays pending and the retry asks the provider
            // again (under the same provider idempotency key).
            if keyed.key.is_none() {
                db.purchases()
                    .update_one(
                        doc! { "_id": purchase.id, "state": PURCHASE_PENDING },
                        doc! { "$set": { "state": PURCHASE_EXPIRED, "endedAt": DateTime::now() } },
                    )
                    .await?;
            }
            return Err(ApiError::refused(
                StatusCode::BAD_GATEWAY,
                "payment_provider_error",
                "The payment provider could not start the checkout; try again in a moment.",
            ));
        }
    };
    db.purchases()
        .update_one(
            doc! { "_id": purchase.id },
            doc! { "$set": { "checkoutUrl": &checkout.url, "sessionId": &checkout.session_id } },
        )
        .await?;
    purchase.checkout_url = Some(checkout.url.clone());
    Ok(CheckoutAnswer {
        purchase: Purchase::from(&purchase),
        url: checkout.url,
    })
}

/// One of the caller's purchases (404 for anyone else's).
pub async fn get(state: &AppState, user: ObjectId, raw_id: &str) -> Result<PurchaseDoc> {
    let id = crate::ids::PurchaseId::parse(raw_id)?.get();
    state
        .db
        .purchases()
        .find_one(doc! { "_id": id, "userId": user })
        .await?
        .ok_or_else(not_found)
}

/// The provider's word that a purchase was paid.
pub struct Payment {
    pub amount: i64,
    pub currency: String,
    pub payment_intent: Option<String>,
}

/// A provider event to record with its effect (Stripe's event id).
pub struct EventRecord {
    pub id: String,
    pub kind: String,
}

/// What handling an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Credited,
    AlreadyCredited,
    Mismatch,
    UnknownPurchase,
    Expired,
    Unchanged,
    Refunded,
    AlreadyRefunded,
    RefundWaiting,
    Duplicate,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Credited => "credited",
            Self::AlreadyCredited => "already_credited",
            Self::Mismatch => "mismatch",
            Self::UnknownPurchase => "unknown_purchase",
            Self::Expired => "expired",
            Self::Unchanged => "unchanged",
            Self::Refunded => "refunded",
            Self::AlreadyRefunded => "already_refunded",
            Self::RefundWaiting => "refund_waiting",
            Self::Duplicate => "duplicate",
        }
    }
}

/// Inside a transaction: whether this event was handled already.
async fn seen(
    db: &Db,
    s: &mut mongodb::ClientSession,
    event: Option<&EventRecord>,
) -> Result<bool> {
    let Some(event) = event else {
        return Ok(false);
    };
    Ok(db
        .stripe_events()
        .find_one(doc! { "_id": &event.id })
        .session(&mut *s)
        .await?
        .is_some())
}

/// Inside a transaction, last: records the event with what it did (a
/// concurrent delivery of the same event that committed first makes this
/// transaction run again, and find it).
async fn record(
    db: &Db,
    s: &mut mongodb::ClientSession,
    event: Option<&EventRecord>,
    outcome: Outcome,
    purchase: Option<ObjectId>,
    payment_intent: Option<&str>,
) -> Result<()> {
    let Some(event) = event else {
        return Ok(());
    };
    let doc = StripeEventDoc {
        id: event.id.clone(),
        kind: event.kind.clone(),
        outcome: outcome.as_str().into(),
        purchase_id: purchase,
        payment_intent: payment_intent.map(str::to_owned),
        received_at: DateTime::now(),
    };
    db.stripe_events()
        .insert_one(&doc)
        .session(&mut *s)
        .await
        .map_err(ledger::retry_on_duplicate)?;
    Ok(())
}

/// Credits a paid purchase once: checks the amount and currency against
/// what we sold (the pack's price when the purchase was made), marks it
/// `paid` and writes the `purchase` entry, in one transaction. A refund
/// that arrived before the payment is applied right after, in the same
/// transaction. A payment for an expired purchase is still credited (the
/// money was taken).
pub async fn complete(
    state: &AppState,
    purchase_id: ObjectId,
    payment: &Payment,
    event: Option<&EventRecord>,
) -> Result<Outcome> {
    let db = &state.db;
    let (outcome, changed) = crate::transaction!(db, |s| {
        if seen(db, s, event).await? {
            return Ok((Outcome::Duplicate, None));
        }
        let Some(purchase) = db
            .purchases()
            .find_one(doc! { "_id": purchase_id })
            .session(&mut *s)
            .await?
        else {
            record(db, s, event, Outcome::UnknownPurchase, None, None).await?;
            return Ok((Outcome::UnknownPurchase, None));
        };
        if purchase.state == PURCHASE_PAID || purchase.state == PURCHASE_REFUNDED {
            let outcome = Outcome::AlreadyCredited;
            record(db, s, event, outcome, Some(purchase.id), None).await?;
            return Ok((outcome, None));
        }
        let matches = payment.amount == purchase.price
            && payment.currency.eq_ignore_ascii_case(&purchase.currency)
            && (event.is_none() || purchase.provider == "stripe");
        if !matches {
            tracing::error!(
                purchase = %purchase.id,
                amount = payment.amount,
                currency = %payment.currency,
                expected_amount = purchase.price,
                expected_currency = %purchase.currency,
                "a payment does not match its purchase: nothing credited"
            );
            record(db, s, event, Outcome::Mismatch, Some(purchase.id), None).await?;
            return Ok((Outcome::Mismatch, None));
        }
        let now = DateTime::now();
        let updated = db
            .purchases()
            .update_one(
                doc! { "_id": purchase.id, "state": &purchase.state },
                doc! { "$set": {
                    "state": PURCHASE_PAID,
                    "paidAt": now,
                    "endedAt": null,
                    "paymentIntent": &payment.payment_intent,
                } },
            )
            .session(&mut *s)
            .await?;
        if updated.matched_count != 1 {
            return Err(ApiError::Retry);
        }
        let entry = TxDoc {
            purchase_id: Some(purchase.id),
            test: purchase.test,
            created_at: now,
            ..TxDoc::new(KIND_PURCHASE, None, Some(purchase.user_id), purchase.coins)
        };
        ledger::transfer(db, s, &entry, Guard::Debt, Bonus::default()).await?;
        let mut outcome = Outcome::Credited;
        // A refund that came first (Stripe does not promise the order).
        if let Some(intent) = &payment.payment_intent
            && let Some(waiting) = db
                .stripe_events()
                .find_one_and_update(
                    doc! { "paymentIntent": intent, "outcome": Outcome::RefundWaiting.as_str() },
                    doc! { "$set": { "outcome": Outcome::Refunded.as_str(), "purchaseId": purchase.id } },
                )
                .session(&mut *s)
                .await?
        {
            tracing::info!(purchase = %purchase.id, event = %waiting.id, "applying a refund that arrived first");
            take_back(db, s, &purchase).await?;
            outcome = Outcome::Refunded;
        }
        record(
            db,
            s,
            event,
            Outcome::Credited,
            Some(purchase.id),
            payment.payment_intent.as_deref(),
        )
        .await?;
        Ok((outcome, Some(purchase.id)))
    })?;
    if let Some(id) = changed {
        tracing::info!(purchase = %id, outcome = outcome.as_str(), "purchase paid");
        push(state, id).await;
    }
    Ok(outcome)
}

/// Inside a transaction: marks a paid purchase refunded and takes its coins
/// back, even into a negative balance (a debt).
async fn take_back(db: &Db, s: &mut mongodb::ClientSession, purchase: &PurchaseDoc) -> Result<()> {
    let now = DateTime::now();
    db.purchases()
        .update_one(
            doc! { "_id": purchase.id },
            doc! { "$set": { "state": PURCHASE_REFUNDED, "endedAt": now } },
        )
        .session(&mut *s)
        .await?;
    let entry = TxDoc {
        purchase_id: Some(purchase.id),
        test: purchase.test,
        created_at: now,
        ..TxDoc::new(
            KIND_PURCHASE_REFUND,
            Some(purchase.user_id),
            None,
            purchase.coins,
        )
    };
    ledger::transfer(db, s, &entry, Guard::Debt, Bonus::default()).await
}

/// A pending purchase whose checkout lapsed (or was cancelled) ends
/// `expired`; any other state is left alone (an `expired` after `paid`
/// changes nothing).
pub async fn expire(
    state: &AppState,
    purchase_id: ObjectId,
    event: Option<&EventRecord>,
) -> Result<Outcome> {
    let db = &state.db;
    let outcome = crate::transaction!(db, |s| {
        if seen(db, s, event).await? {
            return Ok(Outcome::Duplicate);
        }
        let updated = db
            .purchases()
            .update_one(
                doc! { "_id": purchase_id, "state": PURCHASE_PENDING },
                doc! { "$set": { "state": PURCHASE_EXPIRED, "endedAt": DateTime::now() } },
            )
            .session(&mut *s)
            .await?;
        let outcome = if updated.matched_count == 1 {
            Outcome::Expired
        } else {
            Outcome::Unchanged
        };
        record(db, s, event, outcome, Some(purchase_id), None).await?;
        Ok(outcome)
    })?;
    if outcome == Outcome::Expired {
        push(state, purchase_id).await;
    }
    Ok(outcome)
}

/// A payment refunded at the provider: its paid purchase becomes
/// `refunded` and the coins are taken back (even into a debt). A refund
/// whose payment we have not seen yet waits for it (recorded; applied when
/// the payment arrives).
pub async fn refund_by_payment_intent(
    state: &AppState,
    payment_intent: &str,
    event: Option<&EventRecord>,
) -> Result<Outcome> {
    let db = &state.db;
    let (outcome, changed) = crate::transaction!(db, |s| {
        if seen(db, s, event).await? {
            return Ok((Outcome::Duplicate, None));
        }
        let purchase = db
            .purchases()
            .find_one(doc! { "paymentIntent": payment_intent })
            .session(&mut *s)
            .await?;
        let (outcome, changed) = match purchase {
            None => (Outcome::RefundWaiting, None),
            Some(p) if p.state == PURCHASE_REFUNDED => (Outcome::AlreadyRefunded, None),
            Some(p) if p.state != PURCHASE_PAID => (Outcome::Unchanged, None),
            Some(p) => {
                take_back(db, s, &p).await?;
                (Outcome::Refunded, Some(p.id))
            }
        };
        record(db, s, event, outcome, changed, Some(payment_intent)).await?;
        Ok((outcome, changed))
    })?;
    if let Some(id) = changed {
        tracing::info!(purchase = %id, "purchase refunded; coins taken back");
        push(state, id).await;
    }
    Ok(outcome)
}

/// Records an event that changes nothing (unknown types, partial refunds).
pub async fn ignore(state: &AppState, event: &EventRecord) -> Result<()> {
    let db = &state.db;
    crate::transaction!(db, |s| {
        if !seen(db, s, Some(event)).await? {
            record(db, s, Some(event), Outcome::Unchanged, None, None).await?;
        }
        Ok(())
    })
}

/// `purchase:update {purchase}` to the buyer's connections.
async fn push(state: &AppState, id: ObjectId) {
    match state.db.purchases().find_one(doc! { "_id": id }).await {
        Ok(Some(purchase)) => {
            crate::push::broadcast(
                state,
                crate::push::user_channel(purchase.user_id),
                "purchase:update",
                &json!({ "purchase": Purchase::from(&purchase) }),
            )
            .await;
        }
        Ok(None) => {}
        Err(err) => tracing::warn!(error = %err, purchase = %id, "purchase push failed"),
    }
}

fn test_provider_on(state: &AppState) -> Result<()> {
    match &state.payments {
        Some(p) if p.is_test() => Ok(()),
        _ => Err(ApiError::not_found(
            "not_found",
            "There is no test payment provider on this server.",
        )),
    }
}

/// The test provider's "pay": credits exactly like a paid Stripe
/// checkout, as test money. Answers the purchase and the new balance.
pub async fn test_confirm(state: &AppState, user: ObjectId, raw_id: &str) -> Result<Value> {
    test_provider_on(state)?;
    let purchase = get(state, user, raw_id).await?;
    if purchase.provider != "test" {
        return Err(not_found());
    }
    if purchase.state == PURCHASE_EXPIRED {
        return Err(ApiError::conflict(
            "purchase_expired",
            "This purchase was cancelled; start a new one.",
        ));
    }
    let payment = Payment {
        amount: purchase.price,
        currency: purchase.currency.clone(),
        payment_intent: None,
    };
    complete(state, purchase.id, &payment, None).await?;
    answer_with_balance(state, user, purchase.id).await
}

/// The test provider's "cancel": a pending purchase ends `expired`.
pub async fn test_cancel(state: &AppState, user: ObjectId, raw_id: &str) -> Result<Value> {
    test_provider_on(state)?;
    let purchase = get(state, user, raw_id).await?;
    if purchase.provider != "test" {
        return Err(not_found());
    }
    if purchase.state == PURCHASE_PAID || purchase.state == PURCHASE_REFUNDED {
        return Err(ApiError::conflict(
            "purchase_paid",
            "This purchase is paid already.",
        ));
    }
    expire(state, purchase.id, None).await?;
    let purchase = get(state, user, raw_id).await?;
    Ok(json!({ "purchase": Purchase::from(&purchase) }))
}

async fn answer_with_balance(state: &AppState, user: ObjectId, id: ObjectId) -> Result<Value> {
    let purchase = get(state, user, &id.to_hex()).await?;
    let balance = state
        .db
        .users()
        .find_one(doc! { "_id": user })
        .await?
        .map(|u| u.coins)
        .ok_or_else(crate::accounts::account_closed)?;
    Ok(json!({ "purchase": Purchase::from(&purchase), "balance": balance }))
}

/// A Stripe event (already verified): what it does to our purchases.
pub async fn handle_stripe_event(state: &AppState, event: &Value) -> Result<Outcome> {
    let bad = || ApiError::bad_request("malformed_event", "The body is not a Stripe event.");
    let id = event["id"].as_str().ok_or_else(bad)?.to_owned();
    let kind = event["type"].as_str().ok_or_else(bad)?.to_owned();
    let object = &event["data"]["object"];
    let record = EventRecord {
        id,
        kind: kind.clone(),
    };
    match kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            if object["payment_status"].as_str() != Some("paid") {
                // `unpaid`: an asynchronous payment method; its
                // `async_payment_succeeded` comes later.
                ignore(state, &record).await?;
                return Ok(Outcome::Unchanged);
            }
            let Some(purchase) = purchase_of(object) else {
                ignore(state, &record).await?;
                return Ok(Outcome::UnknownPurchase);
            };
            let payment = Payment {
                amount: object["amount_total"].as_i64().unwrap_or(-1),
                currency: object["currency"].as_str().unwrap_or("").to_owned(),
                payment_intent: id_of(&object["payment_intent"]),
            };
            complete(state, purchase, &payment, Some(&record)).await
        }
        "checkout.session.expired" => match purchase_of(object) {
            Some(purchase) => expire(state, purchase, Some(&record)).await,
            None => {
                ignore(state, &record).await?;
                Ok(Outcome::UnknownPurchase)
            }
        },
        "charge.refunded" => {
            let intent = id_of(&object["payment_intent"]);
            let full = object["refunded"].as_bool() == Some(true);
            match intent {
                Some(intent) if full => {
                    refund_by_payment_intent(state, &intent, Some(&record)).await
                }
                _ => {
                    tracing::warn!(
                        event = %record.id,
                        "a partial refund (or one without a payment intent) is left to the operator"
                    );
                    ignore(state, &record).await?;
                    Ok(Outcome::Unchanged)
                }
            }
        }
        _ => Ok(Outcome::Unchanged),
    }
}

/// Our purchase id in a Checkout Session: `client_reference_id`, else
/// `metadata.purchase_id`.
fn purchase_of(session: &Value) -> Option<ObjectId> {
    session["client_reference_id"]
        .as_str()
        .or_else(|| session["metadata"]["purchase_id"].as_str())
        .and_then(|id| ObjectId::parse_str(id).ok())
}

/// An id field that may be expanded into its object.
fn id_of(field: &Value) -> Option<String> {
    field
        .as_str()
        .or_else(|| field["id"].as_str())
        .map(str::to_owned)
}
