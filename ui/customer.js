// The customer's window: what the till asks, large, with nothing to press. Rust says what to
// show: `customer_now` when the window opens (perhaps mid-sale), then each `customer` event.
import { $, invoke, listen } from "./ipc.js";

/** The headline for each state of the till; Rust's `message` says the rest (or, once paid, says it all). */
const STATUS = {
  idle: "Welcome",
  waiting: "Scan to pay",
  paid: "Paid",
  refused: "Not paid",
};

/** Shows the till's state `c` as Rust words it: the amounts and code are Rust's own. */
function show(c) {
  document.body.dataset.state = c.state;
  $("customer-total").textContent = c.total_text ?? "";
  $("customer-total").hidden = !c.total_text;
  $("customer-fiat").textContent = c.fiat_text ?? "";
  $("customer-fiat").hidden = !c.fiat_text;
  // The code while the sale can still be paid; once paid, it goes.
  const payable = Boolean(c.qr_svg) && (c.state === "waiting" || c.state === "refused");
  $("customer-qr").innerHTML = payable ? c.qr_svg : ""; // SVG rendered by Rust
  $("customer-qr").hidden = !payable;
  const paid = c.state === "paid";
  $("customer-status").textContent = (paid && c.message) || (STATUS[c.state] ?? "");
  const message = paid ? null : (c.message ?? (c.state === "refused" ? "The payment was refused." : null));
  $("customer-message").textContent = message ?? "";
  $("customer-message").hidden = !message;
}

/** Set once an event has come: an answer to `customer_now` older than it is not shown. */
let followed = false;

listen("customer", (c) => {
  followed = true;
  show(c);
});
invoke("customer_now")
  .then((c) => followed || show(c))
  .catch(() => {}); // nothing to show yet: the next event says it
