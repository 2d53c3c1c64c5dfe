//! What the person is told, decided once for every front end: the views of each account
//! (health, flagged sessions, the tray's level), the notification policy (what interrupts,
//! when, with which actions) and the messages (the words of each event).

pub mod message;
pub mod notification;
pub mod views;
pub mod words;
