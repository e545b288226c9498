//! E-mail over SMTP (lettre), rendered when the event was fanned out.

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use ordo_app::integrations::{DueDelivery, MailSettings};

pub type Mailer = AsyncSmtpTransport<Tokio1Executor>;

pub fn transport(settings: &MailSettings) -> Result<Mailer, String> {
    let builder = match settings.security.as_str() {
        "tls" => Mailer::relay(&settings.host).map_err(|e| e.to_string())?,
        "starttls" => Mailer::starttls_relay(&settings.host).map_err(|e| e.to_string())?,
        _ => Mailer::builder_dangerous(settings.host.as_str()),
    };
    let mut builder = builder.port(settings.port);
    if let (Some(user), Some(password)) = (settings.username.as_deref(), settings.password.as_deref()) {
        builder = builder.credentials(Credentials::new(user.to_string(), password.to_string()));
    }
    Ok(builder.build())
}

pub async fn send(mailer: &Mailer, settings: &MailSettings, delivery: &DueDelivery) -> (Option<i64>, Option<String>) {
    let from: Result<Mailbox, _> = format!("{} <{}>", settings.from_name, settings.from_address).parse();
    let to: Result<Mailbox, _> = delivery.recipient.parse();
    let (Ok(from), Ok(to)) = (from, to) else {
        return (None, Some(format!("bad address: from {} or to {}", settings.from_address, delivery.recipient)));
    };
    let message =
        Message::builder().from(from).to(to).subject(delivery.subject.clone().unwrap_or_default()).singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                // Base64 keeps Chinese text intact through any relay.
                .header(ContentTransferEncoding::Base64)
                .body(delivery.body.clone().unwrap_or_default()),
        );
    let message = match message {
        Ok(m) => m,
        Err(e) => return (None, Some(format!("could not build the message: {e}"))),
    };
    match mailer.send(message).await {
        Ok(response) => (Some(response.code().to_string().parse().unwrap_or(250)), None),
        Err(e) => (None, Some(format!("SMTP: {e}"))),
    }
}
