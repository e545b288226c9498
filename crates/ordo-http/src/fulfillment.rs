//! Fulfillment: allocation, rate shopping, pick lists, shipments, carriers, tracking,
//! claims, the warehouse queue and logistics KPIs.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, OptionalJsonBody, QueryParams, command, if_match, path_id, with_etag};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_app::fulfillment::{
    self, AllocateOrder, Allocation, Carrier, CarrierList, Claim, ClaimList, ClaimQuery, ClaimUpdate, CompleteOrder,
    ConfirmPicks, DeliveredInput, FulfillmentSettings, FulfillmentSettingsInput, LogisticsReport, NewCarrier,
    NewPickList, NewShipment, PickList, PickListList, RateTable, RateTableInput, Shipment, ShipmentList, ShipmentQuery,
    ShippingOption, ShippingOptionsQuery, TrackingImport, TrackingImportInput, TrackingResult, TrackingUpdate,
    WorkQueue,
};
use ordo_app::orders::Order;
use ordo_domain::auth::Permission;
use ordo_domain::time::Date;
use ordo_domain::{Invalid, Timestamp};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/fulfillment", get(get_settings).put(put_settings))
        .route("/orders/{id}/allocate", post(allocate_order))
        .route("/orders/{id}/allocation", get(order_allocation))
        .route("/orders/{id}/shipping-options", get(shipping_options))
        .route("/orders/{id}/shipments", get(order_shipments).post(create_shipment))
        .route("/orders/{id}/complete", post(complete_order))
        .route("/shipments", get(list_shipments))
        .route("/shipments/{id}", get(get_shipment))
        .route("/shipments/{id}/tracking", post(add_tracking))
        .route("/shipments/{id}/delivered", post(mark_delivered))
        .route("/pick-lists", get(list_pick_lists).post(create_pick_list))
        .route("/pick-lists/{id}", get(get_pick_list))
        .route("/pick-lists/{id}/confirm", post(confirm_pick_list))
        .route("/carriers", get(list_carriers).post(create_carrier))
        .route("/carriers/{id}", get(get_carrier).put(update_carrier))
        .route("/carriers/{id}/rates", get(get_rates).put(set_rates))
        .route("/tracking/webhook", post(tracking_webhook))
        .route("/tracking/secret", get(tracking_secret))
        .route("/tracking/import", post(import_tracking))
        .route("/claims", get(list_claims))
        .route("/claims/{id}", post(update_claim))
        .route("/fulfillment/queue", get(work_queue))
        .route("/reports/logistics", get(logistics))
}

#[utoipa::path(get, path = "/api/v1/settings/fulfillment", tag = "fulfillment",
    responses((status = 200, body = FulfillmentSettings)), security(("bearer" = [])))]
pub async fn get_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<FulfillmentSettings>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(|tx| fulfillment::fulfillment_settings(tx)).await?))
}

#[utoipa::path(put, path = "/api/v1/settings/fulfillment", tag = "fulfillment", request_body = FulfillmentSettingsInput,
    responses((status = 200, body = FulfillmentSettings), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<FulfillmentSettingsInput>,
) -> Result<Json<FulfillmentSettings>, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "change settings")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| fulfillment::update_fulfillment_settings(tx, &ctx, &input)).await?))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/allocate", tag = "fulfillment", request_body = AllocateOrder,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Allocation, description = "Where each line is now reserved, and why the order is split if it is"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn allocate_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody<AllocateOrder>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FulfillmentAllocate, "allocate orders")?;
    let id = path_id(&id, "order")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("orders/{id}/allocate"),
        &body.hash,
        ctx,
        StatusCode::OK,
        move |tx, ctx| fulfillment::allocate_order(tx, ctx, id, &input),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/allocation", tag = "fulfillment", params(("id" = i64, Path)),
    responses((status = 200, body = Allocation), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn order_allocation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Allocation>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "order")?;
    let order = state.db.read(move |tx| ordo_app::orders::get_order(tx, id)).await?;
    Ok(Json(fulfillment::sourcing::allocation_of(&order)))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/shipping-options", tag = "fulfillment",
    params(("id" = i64, Path), ShippingOptionsQuery),
    responses((status = 200, body = Vec<ShippingOption>, description = "Every carrier service, eligible ones first, cheapest first; the policy's pick is `recommended`"),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn shipping_options(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<ShippingOptionsQuery>,
) -> Result<Json<Vec<ShippingOption>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "order")?;
    Ok(Json(
        state
            .db
            .read(move |tx| fulfillment::shipping_options(tx, id, query.warehouse.as_deref(), Timestamp::now()))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/shipments", tag = "fulfillment", request_body = NewShipment,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Shipment), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Not in a state to ship, unpaid, or more than is reserved"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_shipment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewShipment>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FulfillmentShip, "ship orders")?;
    let id = path_id(&id, "order")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("orders/{id}/shipments"),
        &body.hash,
        ctx,
        StatusCode::CREATED,
        move |tx, ctx| fulfillment::create_shipment(tx, ctx, id, &input),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/shipments", tag = "fulfillment", params(("id" = i64, Path)),
    responses((status = 200, body = ShipmentList), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn order_shipments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ShipmentList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "order")?;
    Ok(Json(state.db.read(move |tx| fulfillment::order_shipments(tx, id)).await?))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/complete", tag = "fulfillment", request_body = CompleteOrder,
    params(("id" = i64, Path)),
    responses((status = 200, body = Order, description = "The customer confirmed receipt"), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn complete_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody<CompleteOrder>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::OrdersEdit, "complete orders")?;
    let id = path_id(&id, "order")?;
    let reason = body.value.reason.unwrap_or_else(|| "customer confirmed receipt".into());
    command(
        &state,
        &caller,
        &headers,
        format!("orders/{id}/complete"),
        &body.hash,
        ctx,
        StatusCode::OK,
        move |tx, ctx| fulfillment::complete_order(tx, ctx, id, &reason),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/shipments", tag = "fulfillment", params(ShipmentQuery),
    responses((status = 200, body = ShipmentList)), security(("bearer" = [])))]
pub async fn list_shipments(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ShipmentQuery>,
) -> Result<Json<ShipmentList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(move |tx| fulfillment::list_shipments(tx, &query)).await?))
}

#[utoipa::path(get, path = "/api/v1/shipments/{id}", tag = "fulfillment", params(("id" = i64, Path)),
    responses((status = 200, body = Shipment), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_shipment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Shipment>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "shipment")?;
    Ok(Json(state.db.read(move |tx| fulfillment::get_shipment(tx, id)).await?))
}

#[utoipa::path(post, path = "/api/v1/shipments/{id}/tracking", tag = "fulfillment", request_body = TrackingUpdate,
    params(("id" = i64, Path)),
    responses((status = 200, body = Shipment), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn add_tracking(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<TrackingUpdate>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FulfillmentTrack, "update tracking")?;
    let id = path_id(&id, "shipment")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("shipments/{id}/tracking"),
        &body.hash,
        ctx,
        StatusCode::OK,
        move |tx, ctx| fulfillment::add_tracking(tx, ctx, id, &input),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/shipments/{id}/delivered", tag = "fulfillment", request_body = DeliveredInput,
    params(("id" = i64, Path)),
    responses((status = 200, body = Shipment, description = "Delivered; when every shipment is, the order is `delivered`"),
        (status = 404, body = Problem), (status = 422, body = Problem, description = "A self-pickup without the right code")),
    security(("bearer" = [])))]
pub async fn mark_delivered(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody<DeliveredInput>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FulfillmentTrack, "record deliveries")?;
    let id = path_id(&id, "shipment")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("shipments/{id}/delivered"),
        &body.hash,
        ctx,
        StatusCode::OK,
        move |tx, ctx| fulfillment::mark_delivered(tx, ctx, id, &input),
    )
    .await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct PickListQuery {
    /// open, confirmed.
    pub status: Option<String>,
    /// Warehouse code.
    pub warehouse: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/pick-lists", tag = "fulfillment", params(PickListQuery),
    responses((status = 200, body = PickListList)), security(("bearer" = [])))]
pub async fn list_pick_lists(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<PickListQuery>,
) -> Result<Json<PickListList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(
        state
            .db
            .read(move |tx| fulfillment::list_pick_lists(tx, query.status.as_deref(), query.warehouse.as_deref()))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/pick-lists", tag = "fulfillment", request_body = NewPickList,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = PickList, description = "A wave of lines to pick, in bin order"),
        (status = 409, body = Problem, description = "Nothing to pick there"), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_pick_list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewPickList>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FulfillmentShip, "pick orders")?;
    let input = body.value;
    command(&state, &caller, &headers, "pick-lists".into(), &body.hash, ctx, StatusCode::CREATED, move |tx, ctx| {
        fulfillment::create_pick_list(tx, ctx, &input)
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/pick-lists/{id}", tag = "fulfillment", params(("id" = i64, Path)),
    responses((status = 200, body = PickList), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_pick_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PickList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "pick list")?;
    Ok(Json(state.db.read(move |tx| fulfillment::get_pick_list(tx, id)).await?))
}

#[utoipa::path(post, path = "/api/v1/pick-lists/{id}/confirm", tag = "fulfillment", request_body = ConfirmPicks,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = PickList), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Already confirmed"), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn confirm_pick_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody<ConfirmPicks>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FulfillmentShip, "pick orders")?;
    let id = path_id(&id, "pick list")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("pick-lists/{id}/confirm"),
        &body.hash,
        ctx,
        StatusCode::OK,
        move |tx, ctx| fulfillment::confirm_pick_list(tx, ctx, id, &input),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/carriers", tag = "fulfillment",
    responses((status = 200, body = CarrierList)), security(("bearer" = [])))]
pub async fn list_carriers(State(state): State<AppState>, caller: Caller) -> Result<Json<CarrierList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(|tx| fulfillment::list_carriers(tx)).await?))
}

#[utoipa::path(post, path = "/api/v1/carriers", tag = "fulfillment", request_body = NewCarrier,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Carrier), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_carrier(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewCarrier>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CarriersManage, "manage carriers")?;
    let input = body.value;
    command(&state, &caller, &headers, "carriers".into(), &body.hash, ctx, StatusCode::CREATED, move |tx, ctx| {
        fulfillment::create_carrier(tx, ctx, &input)
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/carriers/{id}", tag = "fulfillment", params(("id" = i64, Path)),
    responses((status = 200, body = Carrier, headers(("ETag" = String))), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_carrier(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "carrier")?;
    let carrier = state.db.read(move |tx| fulfillment::get_carrier(tx, id)).await?;
    Ok(with_etag(StatusCode::OK, &carrier, carrier.version))
}

#[utoipa::path(put, path = "/api/v1/carriers/{id}", tag = "fulfillment", request_body = NewCarrier,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Carrier), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_carrier(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewCarrier>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CarriersManage, "manage carriers")?;
    let id = path_id(&id, "carrier")?;
    let expected = if_match(&headers)?;
    let input = body.value;
    let carrier = state.db.write(move |tx| fulfillment::update_carrier(tx, &ctx, id, expected, &input)).await?;
    Ok(with_etag(StatusCode::OK, &carrier, carrier.version))
}

#[utoipa::path(get, path = "/api/v1/carriers/{id}/rates", tag = "fulfillment", params(("id" = i64, Path)),
    responses((status = 200, body = RateTable), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_rates(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RateTable>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "carrier")?;
    Ok(Json(state.db.read(move |tx| fulfillment::get_rates(tx, id)).await?))
}

#[utoipa::path(put, path = "/api/v1/carriers/{id}/rates", tag = "fulfillment", request_body = RateTableInput,
    params(("id" = i64, Path)),
    responses((status = 200, body = RateTable, description = "The table now: a package's rate is the cheapest band whose max_weight_kg covers it"),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn set_rates(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<RateTableInput>,
) -> Result<Json<RateTable>, ApiError> {
    let ctx = caller.require(Permission::CarriersManage, "manage carriers")?;
    let id = path_id(&id, "carrier")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| fulfillment::set_rates(tx, &ctx, id, &input)).await?))
}

/// A carrier's (or tracking aggregator's) signed event. Public: the signature is the
/// authentication.
#[utoipa::path(post, path = "/api/v1/tracking/webhook", tag = "fulfillment",
    params(("Ordo-Signature" = String, Header, description = "t=UNIX,v1=HMAC-SHA256(secret, \"t.body\")")),
    request_body = TrackingUpdate,
    responses((status = 200, body = TrackingResult, description = "Recorded, or a duplicate that changed nothing"),
        (status = 401, body = Problem, description = "Forged, or too old"), (status = 404, body = Problem, description = "Unknown tracking number")))]
pub async fn tracking_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<TrackingResult>, ApiError> {
    let signature = headers.get("ordo-signature").and_then(|v| v.to_str().ok()).map(str::to_string);
    let result = state
        .db
        .write(move |tx| fulfillment::tracking_webhook(tx, signature.as_deref(), &body, Timestamp::now()))
        .await?;
    Ok(Json(result))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TrackingSecret {
    /// Carriers sign `POST /api/v1/tracking/webhook` with it.
    pub webhook_secret: String,
}

#[utoipa::path(get, path = "/api/v1/tracking/secret", tag = "fulfillment",
    responses((status = 200, body = TrackingSecret)), security(("bearer" = [])))]
pub async fn tracking_secret(State(state): State<AppState>, caller: Caller) -> Result<Json<TrackingSecret>, ApiError> {
    caller.require(Permission::SettingsManage, "read secrets")?;
    let webhook_secret = state.db.write(|tx| fulfillment::tracking_secret(tx)).await?;
    Ok(Json(TrackingSecret { webhook_secret }))
}

#[utoipa::path(post, path = "/api/v1/tracking/import", tag = "fulfillment", request_body = TrackingImportInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = TrackingImport, description = "Each row's outcome; good rows are recorded even when others are not")),
    security(("bearer" = [])))]
pub async fn import_tracking(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<TrackingImportInput>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FulfillmentTrack, "update tracking")?;
    let text = body.value.csv.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(Invalid::field("csv", "is required").into());
    }
    command(&state, &caller, &headers, "tracking/import".into(), &body.hash, ctx, StatusCode::OK, move |tx, ctx| {
        fulfillment::import_tracking(tx, ctx, &text)
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/claims", tag = "fulfillment", params(ClaimQuery),
    responses((status = 200, body = ClaimList)), security(("bearer" = [])))]
pub async fn list_claims(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ClaimQuery>,
) -> Result<Json<ClaimList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(move |tx| fulfillment::list_claims(tx, query.status.as_deref())).await?))
}

#[utoipa::path(post, path = "/api/v1/claims/{id}", tag = "fulfillment", request_body = ClaimUpdate, params(("id" = i64, Path)),
    responses((status = 200, body = Claim), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ClaimUpdate>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FulfillmentTrack, "handle claims")?;
    let id = path_id(&id, "claim")?;
    let input = body.value;
    command(&state, &caller, &headers, format!("claims/{id}"), &body.hash, ctx, StatusCode::OK, move |tx, ctx| {
        fulfillment::update_claim(tx, ctx, id, &input)
    })
    .await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct QueueQuery {
    /// Warehouse code; absent for all.
    pub warehouse: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/fulfillment/queue", tag = "fulfillment", params(QueueQuery),
    responses((status = 200, body = WorkQueue)), security(("bearer" = [])))]
pub async fn work_queue(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<QueueQuery>,
) -> Result<Json<WorkQueue>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(move |tx| fulfillment::work_queue(tx, query.warehouse.as_deref())).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct PeriodQuery {
    /// `YYYY-MM-DD`, default 30 days ago.
    pub from: Option<String>,
    /// `YYYY-MM-DD` inclusive, default today.
    pub to: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/logistics", tag = "fulfillment", params(PeriodQuery),
    responses((status = 200, body = LogisticsReport)), security(("bearer" = [])))]
pub async fn logistics(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<PeriodQuery>,
) -> Result<Json<LogisticsReport>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let today = Date::of(Timestamp::now());
    let from =
        Date::field("from", query.from.as_deref()).map_err(|e| Invalid(vec![e]))?.unwrap_or(today.plus_days(-30));
    let to = Date::field("to", query.to.as_deref()).map_err(|e| Invalid(vec![e]))?.unwrap_or(today);
    Ok(Json(state.db.read(move |tx| fulfillment::logistics_report(tx, from, to)).await?))
}
