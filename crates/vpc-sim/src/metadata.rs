//! The CVM instance metadata service, on its own plain-HTTP listener:
//! `GET /latest/meta-data/cam/security-credentials/` lists the world's instance role and
//! `GET …/security-credentials/<role>` answers a fresh temporary key for it. Network I/O.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use vpc_wire::v3::models::identity::METADATA_ROLE_PATH;

use crate::app::App;
use crate::sts;

/// The metadata routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(METADATA_ROLE_PATH, get(list_role))
        .route(&format!("{METADATA_ROLE_PATH}{{role}}"), get(role_credentials))
        .with_state(app)
}

async fn list_role(State(app): State<Arc<App>>) -> Response {
    match app.identity().instance_role.as_ref() {
        Some(spec) => spec.role_name.clone().into_response(),
        None => (StatusCode::NOT_FOUND, "no instance role is bound to this instance").into_response(),
    }
}

async fn role_credentials(State(app): State<Arc<App>>, Path(role): Path<String>) -> Response {
    match sts::instance_role_credentials(&app, &role) {
        Some(answer) => {
            tracing::info!(role, secret_id = answer.tmp_secret_id, "instance role credentials issued");
            axum::Json(answer).into_response()
        }
        None => (StatusCode::NOT_FOUND, format!("no instance role {role}")).into_response(),
    }
}

/// Serves the metadata routes over plain HTTP until `shutdown` completes.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()> + Send + 'static) {
    if let Err(error) = axum::serve(listener, router(app)).with_graceful_shutdown(shutdown).await {
        tracing::error!(%error, "metadata listener failed");
    }
}
