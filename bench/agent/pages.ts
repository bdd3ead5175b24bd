/**
 * Fixture pages for the agent benchmark: each has a question whose answer text must be visible
 * to the model in its first snapshot, and the element a user would act on for the task.
 */
export interface BenchPage {
  path: string;
  question: string;
  /** Text that answers the question. */
  answer: string;
  /** Part of the name of the element the task needs; it must carry a ref. */
  target: string;
  html: (origin: { other: string }) => string;
}

const doc = (title: string, body: string) =>
  `<!doctype html><html><head><title>${title}</title><style>body{font-family:sans-serif}</style></head><body>${body}</body></html>`;

const nav = `<nav><a href="/">Home</a> <a href="/docs">Docs</a> <a href="/blog">Blog</a> <a href="/login">Log in</a></nav>`;

export const PAGES: BenchPage[] = [
  {
    path: "/price",
    question: "What does the Pro plan cost?",
    answer: "$49 per month",
    target: "Buy Pro",
    html: () =>
      doc(
        "Pricing",
        `${nav}<h1>Pricing</h1><section><h2>Pro</h2><p>The Pro plan costs $49 per month, billed yearly.</p><button>Buy Pro</button></section>
<section><h2>Team</h2><p>Talk to us about volume pricing.</p><button>Contact sales</button></section>`,
      ),
  },
  {
    path: "/accordion",
    question: "How long is the refund window?",
    answer: "30 days",
    target: "Refund policy",
    html: () =>
      doc(
        "FAQ",
        `${nav}<h1>FAQ</h1>
<div class="acc"><button aria-expanded="false" aria-controls="a1" onclick="document.getElementById('a1').hidden=!document.getElementById('a1').hidden;this.setAttribute('aria-expanded', String(!document.getElementById('a1').hidden))">Refund policy</button>
<div id="a1" hidden><p>Refunds are accepted within 30 days of purchase.</p></div>
<button aria-expanded="false" aria-controls="a2">Shipping</button><div id="a2" hidden><p>We ship worldwide.</p></div></div>`,
      ),
  },
  {
    path: "/tabs",
    question: "How much does the laptop weigh?",
    answer: "1.2 kg",
    target: "Specs",
    html: () =>
      doc(
        "Laptop",
        `${nav}<h1>Laptop 14</h1><div role="tablist"><button role="tab" aria-selected="true" aria-controls="t1">Overview</button><button role="tab" aria-selected="false" aria-controls="t2">Specs</button></div>
<div role="tabpanel" id="t1"><p>A light laptop for travel.</p></div><div role="tabpanel" id="t2" hidden><p>Weight: 1.2 kg. Battery: 18 hours.</p></div>`,
      ),
  },
  {
    path: "/cookies",
    question: "When is the shop open?",
    answer: "9am to 5pm",
    target: "Accept all",
    html: () =>
      doc(
        "Opening hours",
        `${nav}<h1>Visit us</h1><p>The shop is open 9am to 5pm, Monday to Saturday.</p>
<div style="position:fixed;inset:0;background:rgba(0,0,0,.6)"><div style="background:#fff;margin:20vh auto;width:400px;padding:1em"><p>We use cookies.</p><button>Accept all</button><button>Settings</button></div></div>`,
      ),
  },
  {
    path: "/iframe-same",
    question: "What is the order total?",
    answer: "$120.00",
    target: "Pay now",
    html: () =>
      doc(
        "Checkout",
        `${nav}<h1>Checkout</h1><iframe src="/frame-pay" width="500" height="200"></iframe>`,
      ),
  },
  {
    path: "/iframe-cross",
    question: "What is the tracking code?",
    answer: "ZX-9041",
    target: "Track parcel",
    html: ({ other }) =>
      doc(
        "Parcel",
        `${nav}<h1>Your parcel</h1><iframe src="${other}/frame-track" width="500" height="200"></iframe>`,
      ),
  },
  {
    path: "/shadow",
    question: "How often is the newsletter sent?",
    answer: "every Tuesday",
    target: "Email",
    html: () =>
      doc(
        "Newsletter",
        `${nav}<h1>Newsletter</h1><news-form></news-form><script>
customElements.define("news-form", class extends HTMLElement { connectedCallback() {
  const root = this.attachShadow({ mode: "open" });
  root.innerHTML = '<p>Sent every Tuesday.</p><label>Email <input type="email"></label><button>Subscribe</button>';
}});</script>`,
      ),
  },
  {
    path: "/div-button",
    question: "How many are in stock?",
    answer: "7 in stock",
    target: "Add to cart",
    html: () =>
      doc(
        "Mug",
        `${nav}<style>.btn{cursor:pointer;background:#06c;color:#fff;padding:4px}</style><h1>Blue mug</h1><p>7 in stock.</p><div class="btn" onclick="this.textContent='Added'">Add to cart</div>`,
      ),
  },
  {
    path: "/long-list",
    question: "How many products are listed, and which button shows the next page?",
    answer: "2,000 products",
    target: "Next page",
    html: () =>
      doc(
        "Catalogue",
        `${nav}<h1>Catalogue</h1><p>2,000 products</p><table>${Array.from(
          { length: 2000 },
          (_, i) =>
            `<tr><td><a href="/p/${i}">Product ${i}</a></td><td>$${(i * 1.5).toFixed(2)}</td><td><button>Add</button></td></tr>`,
        ).join("")}</table><button>Next page</button>`,
      ),
  },
  {
    path: "/rerender",
    question: "What is the current price of gold?",
    answer: "$2,345",
    target: "Refresh prices",
    html: () =>
      doc(
        "Prices",
        `${nav}<h1>Prices</h1><div id="list"></div><button onclick="render()">Refresh prices</button><script>
function render(){document.getElementById("list").innerHTML='<p>Gold: $2,345 per ounce</p><p>Silver: $29 per ounce</p><button>Buy gold</button>';}
render();</script>`,
      ),
  },
  {
    path: "/select",
    question: "How much does express shipping cost?",
    answer: "Express ($15)",
    target: "Shipping",
    html: () =>
      doc(
        "Shipping",
        `${nav}<h1>Shipping</h1><label>Shipping <select><option>Standard (free)</option><option>Express ($15)</option></select></label><button>Continue</button>`,
      ),
  },
  {
    path: "/infinite",
    question: "What is the title of the first post?",
    answer: "Hello world",
    target: "Hello world",
    html: () =>
      doc(
        "Feed",
        `${nav}<h1>Feed</h1><div id="feed"></div><script>
let n = 0; const feed = document.getElementById("feed");
function more(){ for (let i = 0; i < 20; i++, n++) { const a = document.createElement("article"); a.innerHTML = '<h2><a href="/post/' + n + '">' + (n ? "Post " + n : "Hello world") + '</a></h2><p>Text of post ' + n + '.</p>'; feed.appendChild(a); } }
more(); addEventListener("scroll", () => { if (innerHeight + scrollY > document.body.scrollHeight - 200) more(); });</script>`,
      ),
  },
];

/** Pages the fixtures above load in frames. */
export const FRAMES: Record<string, string> = {
  "/frame-pay": doc("Pay", `<p>Order total: $120.00</p><button>Pay now</button>`),
  "/frame-track": doc("Track", `<p>Tracking code: ZX-9041</p><button>Track parcel</button>`),
};
