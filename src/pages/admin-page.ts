import { couponStatuses } from '../coupons/rules.ts';
import { html, renderPage, trusted } from './html.ts';

const css = `
body{--bg:#f3f4f7}
main{max-width:1180px;padding:16px 24px 48px}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;margin:0 0 16px}
header.top h1{margin:0;flex:1 1 auto}
.grow{flex:1 1 auto;margin:0}
nav{display:flex;flex-wrap:wrap;gap:6px}
.tab{padding:8px 14px;border-radius:10px;border:1px solid #ccd;background:#fff;color:#1a1a1a;font:inherit;cursor:pointer;text-decoration:none}
.tab[aria-current=page]{background:#1a1a1a;color:#fff;border-color:#1a1a1a}
.hidden{display:none !important}
.card{overflow:visible}
.card-body h2:first-child{margin-top:0}
h3{font-size:1rem;margin:12px 0 6px}
.btn-inline{display:inline-block;width:auto;padding:8px 16px;margin:0;font-size:.95rem;border-radius:10px}
.btn-dark{background:#1a1a1a;color:#fff}
.row-actions{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:10px 0}
.table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.92rem;background:#fff;color:#1a1a1a}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #e3e5ea;vertical-align:top}
th{font-weight:600;color:#444;background:#fafbfc;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.selected td{background:#eef5ff}
.linkish{border:0;background:none;padding:0;font:inherit;font-weight:600;color:#0b63c5;cursor:pointer;text-align:left}
.linkish:focus-visible,.tab:focus-visible{outline:3px solid #0b63c5}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8rem;background:#eef;color:#224;white-space:nowrap}
.badge-no{background:#fde8e8;color:#8a1c1c}
.badge-yes{background:#e6f6ea;color:#125b2a}
.grid2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:16px}
dl.settings{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:4px 14px;margin:0}
dl.settings dt{color:#666}
dl.settings dd{margin:0;overflow-wrap:anywhere}
.pre{white-space:pre-wrap;overflow-wrap:anywhere}
.swatch{display:inline-block;width:14px;height:14px;border-radius:3px;border:1px solid #999;vertical-align:-2px;margin-right:4px}
.funnel td.bar{width:40%}
.funnel .fill{height:10px;border-radius:5px;background:#06c755;min-width:2px}
.reason,.field-error{color:#8a1c1c;font-size:.88rem;margin:2px 0 0}
.field-error:empty{display:none}
.ok{color:#125b2a}
form.stack label{display:block;font-weight:600;font-size:.9rem;margin:10px 0 2px}
form.stack .hint{font-weight:400;color:#666}
input,select,textarea{font:inherit;padding:7px 10px;border:1px solid #ccd;border-radius:8px;background:#fff;color:#1a1a1a;max-width:100%}
form.stack input:not([type=checkbox]):not([type=color]):not([type=file]),form.stack select,form.stack textarea{width:100%}
input[aria-invalid=true],select[aria-invalid=true],textarea[aria-invalid=true]{border-color:#c62828;background:#fff7f7}
input[type=color]{padding:2px;width:56px;height:36px}
.fields{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:0 16px}
.fields .wide{grid-column:1/-1}
.inline{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.inline>*{flex:1 1 120px}
.check{display:flex !important;gap:8px;align-items:center;font-weight:600}
.errors{background:#fde8e8;color:#8a1c1c;border:1px solid #f2b8b8;border-radius:10px;padding:10px 14px;margin:12px 0}
.errors ul{margin:4px 0 0;padding-left:1.2em}
.uploads{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:16px}
.uploads form{display:flex;flex-direction:column;gap:8px}
.preview{max-width:160px;border-radius:8px;border:1px solid #ddd;background:#fff}
.flow{border-top:1px solid #e3e5ea;padding:12px 0}
.flow:first-child{border-top:0}
.flow h3{margin:0 0 4px;font-size:1rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;overflow-wrap:anywhere}
@media (max-width:860px){
main{padding:12px 12px 40px}
.grid2,.uploads{grid-template-columns:minmax(0,1fr)}
.fields{grid-template-columns:minmax(0,1fr)}
}
`;


/**
 * The marketers' admin page: campaigns, their funnel and records, serial packs and images, new
 * and edited campaigns, and the flows' status. A shell only, for a signed-in session (the session
 * cookie carries the API calls): every datum comes from the JSON API and is put in with textContent.
 */
export function adminPage(nonce: string): string {
  const statusOptions = couponStatuses.map((s) => html`<option value="${s}">${s}</option>`);
  const body = html`<main>
<header class="top">
<h1>chatcoupon admin</h1>
<nav id="nav" class="hidden" aria-label="Sections">
<a class="tab" href="#campaigns" data-tab="campaigns">Campaigns</a>
<a class="tab" href="#new" data-tab="new">New campaign</a>
<a class="tab" href="#flows" data-tab="flows">Flows</a>
<button class="tab" id="logout" type="button">Sign out</button>
</nav>
</header>

<p id="error" class="reason" role="alert"></p>

<section id="view-campaigns" class="hidden">
<div class="card"><div class="card-body">
<div class="row-actions"><h2 class="grow">Campaigns</h2><button class="btn btn-inline btn-secondary" id="refresh" type="button">Refresh</button></div>
<div class="table-wrap"><table id="campaigns">
<thead><tr><th>Name</th><th>Slug</th><th>Sending period</th><th>Reward</th><th>Visibility</th><th class="num">Stock left</th></tr></thead>
<tbody></tbody></table></div>
<p id="no-campaigns" class="muted hidden">No campaigns yet. Create one under “New campaign”.</p>
</div></div>

<section id="detail" class="hidden">
<div class="card"><div class="card-body">
<div class="row-actions"><h2 id="d-name" class="grow"></h2><button class="btn btn-inline btn-secondary" id="edit" type="button">Edit</button></div>
<p id="edit-result" class="ok" role="status"></p>
<div class="grid2">
<div><h3>Settings</h3><dl class="settings" id="d-settings"></dl></div>
<div><h3>Funnel</h3>
<div class="table-wrap"><table class="funnel" id="funnel"><tbody></tbody></table></div>
<dl class="settings" id="funnel-extra"></dl>
</div>
</div>
</div></div>

<div class="card"><div class="card-body">
<h2>Serials and image</h2>
<div class="uploads">
<form id="csv-form">
<label for="csv-file"><strong>CSV pack</strong> <span class="muted">one column, header on row 1, under 10 MB</span></label>
<input id="csv-file" name="file" type="file" accept=".csv,text/csv,text/plain" required>
<button class="btn btn-inline btn-dark" type="submit">Upload pack</button>
<p id="csv-result" role="status"></p>
<ul id="csv-rejected" class="reason"></ul>
</form>
<form id="fixed-form">
<strong>Fixed serial</strong>
<div class="inline">
<input id="fixed-code" placeholder="Code, e.g. FNA@5841" aria-label="Fixed code" maxlength="16" autocomplete="off" required>
<input id="fixed-quantity" type="number" min="1" step="1" placeholder="Quantity" aria-label="Quantity" required>
</div>
<button class="btn btn-inline btn-dark" type="submit">Add fixed serial</button>
<p id="fixed-result" role="status"></p>
</form>
<form id="image-form">
<label for="image-file"><strong>Coupon image</strong> <span class="muted">JPG or PNG under 1 MB, 640×640 recommended</span></label>
<input id="image-file" name="file" type="file" accept="image/jpeg,image/png" required>
<button class="btn btn-inline btn-dark" type="submit">Upload image</button>
<p id="image-result" role="status"></p>
<img id="image-preview" class="preview hidden" alt="Coupon image">
</form>
</div>
</div></div>

<div class="card"><div class="card-body">
<h2>Redemption records</h2>
<form id="records-filter" class="row-actions">
<label>Status <select id="r-status"><option value="">All</option>${statusOptions}</select></label>
<label>Issued from <input id="r-from" type="datetime-local"></label>
<label>to <input id="r-to" type="datetime-local"></label>
<button class="btn btn-inline btn-secondary" type="submit">Apply</button>
<button class="btn btn-inline btn-dark" id="download" type="button">Download CSV</button>
</form>
<p id="records-error" class="reason" role="alert"></p>
<div class="table-wrap"><table id="records">
<thead><tr><th>Contact</th><th>Channel</th><th>Status</th><th>Delivery</th><th>Issued</th><th>Sent</th><th>Opened</th><th>Redeemed</th><th>Verified</th><th>Expires</th><th>Serial</th></tr></thead>
<tbody></tbody></table></div>
<p id="no-records" class="muted hidden">No records.</p>
<div class="row-actions"><button class="btn btn-inline btn-secondary hidden" id="more" type="button">Load more</button><span id="records-count" class="muted"></span></div>
</div></div>
</section>
</section>

<section id="view-new" class="hidden"><div class="card"><div class="card-body">
<h2 id="form-title">New campaign</h2>
<form id="create-form" class="stack" novalidate>
<div class="fields">
<div><label for="f-name">Name <span class="hint">(at most 50 characters)</span></label><input id="f-name" maxlength="200" autocomplete="off"><p class="field-error" data-error-for="name"></p></div>
<div><label for="f-slug">Slug <span class="hint" id="f-slug-hint">(the name flows use; empty: from the name)</span></label><input id="f-slug" autocomplete="off"><p class="field-error" data-error-for="slug"></p></div>
<div><label for="f-visibility">Visibility</label><select id="f-visibility"><option value="public">Public (flows, API, agents)</option><option value="private">Private (an agent sends it to one chat)</option></select><p class="field-error" data-error-for="visibility"></p></div>
<div class="wide"><label for="f-instructions">Usage instructions <span class="hint">(shown on the coupon page; **bold**, - lists and links)</span></label><textarea id="f-instructions" rows="4"></textarea><p class="field-error" data-error-for="instructions"></p></div>
<div><label for="f-send-start">Sending starts</label><input id="f-send-start" type="datetime-local"><p class="field-error" data-error-for="sendStart"></p></div>
<div><label for="f-send-end">Sending ends</label><input id="f-send-end" type="datetime-local"><p class="field-error" data-error-for="sendEnd"></p></div>
<div><label for="f-limit">Redemptions per contact</label><input id="f-limit" type="number" step="1" value="1"><p class="field-error" data-error-for="perContactLimit"></p></div>
<div><label for="f-expiry-mode">Expiry</label><select id="f-expiry-mode"><option value="fromSend">Interval from sending</option><option value="fromRedeem">Countdown from redemption</option></select><p class="field-error" data-error-for="expiry.mode"></p></div>
<div><label for="f-expiry-amount">Expires after</label><div class="inline"><input id="f-expiry-amount" type="number" step="1" value="7" aria-label="Expiry amount"><select id="f-expiry-unit" aria-label="Expiry unit"><option value="days">days</option><option value="hours">hours</option></select></div><p class="field-error" data-error-for="expiry"></p></div>
<div><label for="f-redeem-by">Redeem by <span class="hint">(countdown mode only; optional)</span></label><input id="f-redeem-by" type="datetime-local"><p class="field-error" data-error-for="redeemBy"></p></div>
<div><label for="f-reward-type">Reward</label><select id="f-reward-type"><option value="percent">Percentage off</option><option value="amount">Fixed amount off</option><option value="gift">Free item / gift / other</option></select><p class="field-error" data-error-for="reward.type"></p></div>
<div data-reward="percent amount"><label for="f-reward-value">Value <span class="hint">(% or amount)</span></label><input id="f-reward-value" type="number" step="any"><p class="field-error" data-error-for="reward.value"></p></div>
<div data-reward="gift" class="hidden"><label for="f-reward-text">Gift text</label><input id="f-reward-text" maxlength="300" autocomplete="off"><p class="field-error" data-error-for="reward.text"></p></div>
<div><label for="f-currency">Currency <span class="hint">(amount off or minimum spend, e.g. TWD)</span></label><input id="f-currency" maxlength="3" autocomplete="off"><p class="field-error" data-error-for="reward.currency"></p></div>
<div><label for="f-min-spend">Minimum spend <span class="hint">(optional)</span></label><input id="f-min-spend" type="number" step="any"><p class="field-error" data-error-for="reward.minSpend"></p></div>
<div><label for="f-barcode">Barcode</label><select id="f-barcode"><option value="qr">QR</option><option value="code128">CODE_128</option><option value="code39">CODE_39</option></select><p class="field-error" data-error-for="barcode"></p></div>
<div><label>Colours</label><div class="inline">
<label class="check"><input id="f-color-background" type="color" value="#ffffff"> background</label>
<label class="check"><input id="f-color-button" type="color" value="#06c755"> button</label>
<label class="check"><input id="f-color-button-text" type="color" value="#ffffff"> button text</label>
</div><p class="field-error" data-error-for="colors"></p></div>
<div><label class="check"><input id="f-verification" type="checkbox"> Staff verification button</label><p class="field-error" data-error-for="verification"></p></div>
</div>
<div id="create-errors" class="errors hidden" role="alert"><strong id="form-errors-title">The campaign was not created:</strong><ul></ul></div>
<div class="row-actions"><button class="btn btn-inline btn-dark" id="create" type="submit">Create campaign</button><button class="btn btn-inline btn-secondary hidden" id="cancel-edit" type="button">Cancel</button><span id="create-result" role="status"></span></div>
</form>
</div></div></section>

<section id="view-flows" class="hidden"><div class="card"><div class="card-body">
<div class="row-actions"><h2 class="grow">Flows</h2><button class="btn btn-inline btn-secondary" id="flows-refresh" type="button">Refresh</button></div>
<p id="flows-error" class="reason" role="alert"></p>
<div id="flows"></div>
<div id="flows-errors" class="errors hidden"><strong>Files with errors</strong><ul></ul></div>
</div></div></section>
</main>`;
  return renderPage({ title: 'chatcoupon admin', nonce, body, css, script: trusted(clientScript) });
}

// Plain ES5-ish browser code; every datum goes in through textContent, never as markup.
const clientScript = String.raw`
(function(){
var PAGE=50;
var $=function(id){return document.getElementById(id);};
var show=function(el,on){el.classList.toggle('hidden',!on);};
var campaigns=[];var current=null;var cursor=null;var recordCount=0;var loggedIn=false;
// editing: {id, base} while the form edits a campaign; base is the form's own reading of the loaded campaign.
var editing=null;var editSeq=0;var flash=null;
function el(tag,text,cls){var e=document.createElement(tag);if(text!=null)e.textContent=String(text);if(cls)e.className=cls;return e;}
function fmt(iso){if(!iso)return '';var d=new Date(iso);return isNaN(d)?String(iso):d.toLocaleString();}
function num(n){return typeof n==='number'?n.toLocaleString('en'):String(n==null?'':n);}
function pct(r){return (Math.round(r*1000)/10)+'%';}
function errText(r){return (r.body&&r.body.error&&r.body.error.message)||('Error '+r.status);}
function unauthorized(){login();throw new Error('unauthorized');}
function api(path,opts){
  opts=opts||{};opts.headers=Object.assign({'Accept':'application/json'},opts.headers||{});
  return fetch(path,opts).then(function(res){
    return res.json().catch(function(){return {};}).then(function(body){
      if(res.status===401)unauthorized();
      return {status:res.status,body:body,headers:res.headers};
    });
  });
}
function apiJson(path,method,payload){return api(path,{method:method,headers:{'Content-Type':'application/json'},body:JSON.stringify(payload)});}
// The session ended (signed out elsewhere, or revoked): sign in again and come back here.
function login(){loggedIn=false;location.href='/login?next='+encodeURIComponent(location.pathname+location.hash);}
function start(){loggedIn=true;show($('nav'),true);route();}

function rewardText(r){
  if(!r)return '';
  var t=r.type==='percent'?r.value+'% off':r.type==='amount'?num(r.value)+' '+(r.currency||'')+' off':(r.text||'');
  if(r.minSpend!=null)t+=' (min. spend '+num(r.minSpend)+(r.currency?' '+r.currency:'')+')';
  return t;
}
function stockText(c){
  var s=c.stock;if(!s)return '';
  if(s.kind==='none')return 'nothing loaded';
  return num(s.left)+' of '+num(s.total)+(s.kind==='fixed'?' (fixed)':'');
}
function expiryText(e){
  var n=e.days!=null?e.days+' day'+(e.days===1?'':'s'):e.hours+' hour'+(e.hours===1?'':'s');
  return n+(e.mode==='fromSend'?' from sending':' from redemption');
}
function samePath(url){try{var u=new URL(url,location.href);return u.pathname.indexOf('/images/')===0?u.pathname:url;}catch(e){return url;}}

function route(){
  if(!loggedIn)return;
  var h=location.hash.replace(/^#/,'');
  var em=/^edit\/(.+)$/.exec(h);
  var tab=h==='new'?'new':h==='flows'?'flows':em?'edit':'campaigns';
  var navTab=tab==='edit'?'campaigns':tab;
  document.querySelectorAll('[data-tab]').forEach(function(a){if(a.getAttribute('data-tab')===navTab)a.setAttribute('aria-current','page');else a.removeAttribute('aria-current');});
  show($('view-campaigns'),tab==='campaigns');show($('view-new'),tab==='new'||tab==='edit');show($('view-flows'),tab==='flows');
  $('error').textContent='';
  if(tab==='flows')return loadFlows();
  if(tab==='edit')return openEdit(decodeURIComponent(em[1]));
  if(tab==='new'){if(editing)enterCreate();return;}
  var m=/^campaign\/(.+)$/.exec(h);
  loadCampaigns().then(function(){
    if(m){var id=decodeURIComponent(m[1]);var c=campaigns.filter(function(x){return x.id===id;})[0];if(c)select(c);else $('error').textContent='That campaign does not exist.';}
    else{current=null;show($('detail'),false);markSelected();}
  });
}

function loadCampaigns(){
  return api('/api/v1/campaigns').then(function(r){
    if(r.status!==200){$('error').textContent=errText(r);return;}
    campaigns=r.body.campaigns||[];renderCampaigns();
  }).catch(function(){});
}
function renderCampaigns(){
  var tb=$('campaigns').tBodies[0];tb.textContent='';
  campaigns.forEach(function(c){
    var tr=document.createElement('tr');tr.setAttribute('data-campaign',c.id);
    var td=document.createElement('td');var b=el('button',c.name,'linkish');b.type='button';
    b.addEventListener('click',function(){location.hash='campaign/'+encodeURIComponent(c.id);});
    td.appendChild(b);tr.appendChild(td);
    tr.appendChild(el('td',c.slug));
    tr.appendChild(el('td',fmt(c.sendStart)+' – '+fmt(c.sendEnd)));
    tr.appendChild(el('td',rewardText(c.reward)));
    var v=el('td');v.appendChild(el('span',c.visibility,'badge'));tr.appendChild(v);
    var s=el('td',null,'num');s.setAttribute('data-field','stock');
    if(c.stock&&c.stock.soldOut)s.appendChild(el('span',c.stock.kind==='none'?'nothing loaded':'sold out','badge badge-no'));
    else s.textContent=stockText(c);
    tr.appendChild(s);tb.appendChild(tr);
  });
  show($('no-campaigns'),campaigns.length===0);
  markSelected();
}
function markSelected(){document.querySelectorAll('#campaigns tr[data-campaign]').forEach(function(tr){tr.classList.toggle('selected',!!current&&tr.getAttribute('data-campaign')===current.id);});}

function select(c){
  var changed=!current||current.id!==c.id;
  current=c;markSelected();show($('detail'),true);
  if(flash&&flash.id===c.id){$('edit-result').textContent=flash.text;flash=null;}else if(changed)$('edit-result').textContent='';
  if(changed){['csv-result','fixed-result','image-result'].forEach(function(id){$(id).textContent='';$(id).className='';});$('csv-rejected').textContent='';$('r-status').value='';$('r-from').value='';$('r-to').value='';}
  renderSettings();loadStats();loadRecords(false);
  if(changed)$('detail').scrollIntoView({block:'start'});
}
function refreshCurrent(){
  if(!current)return Promise.resolve();
  var id=current.id;
  return loadCampaigns().then(function(){var c=campaigns.filter(function(x){return x.id===id;})[0];if(c){current=c;renderSettings();loadStats();}});
}
function settingRow(dl,label,value,field){
  dl.appendChild(el('dt',label));var dd=el('dd');if(field)dd.setAttribute('data-setting',field);
  if(value instanceof Node)dd.appendChild(value);else dd.textContent=value==null?'':String(value);
  dl.appendChild(dd);
}
function swatches(colors){
  var span=el('span');
  [['background','background'],['button','button'],['buttonText','button text']].forEach(function(p){
    var sw=el('span',null,'swatch');sw.style.background=colors[p[0]];span.appendChild(sw);span.appendChild(document.createTextNode(p[1]+' '+colors[p[0]]+'  '));
  });
  return span;
}
function renderSettings(){
  var c=current;$('d-name').textContent=c.name;
  var dl=$('d-settings');dl.textContent='';
  settingRow(dl,'Slug',c.slug,'slug');
  settingRow(dl,'Id',c.id,'id');
  settingRow(dl,'Sending period',fmt(c.sendStart)+' – '+fmt(c.sendEnd),'period');
  settingRow(dl,'Expiry',expiryText(c.expiry),'expiry');
  settingRow(dl,'Redeem by',c.redeemBy?fmt(c.redeemBy):'—','redeemBy');
  settingRow(dl,'Per contact',c.perContactLimit,'perContactLimit');
  settingRow(dl,'Reward',rewardText(c.reward),'reward');
  settingRow(dl,'Visibility',c.visibility,'visibility');
  settingRow(dl,'Verification',c.verification?'on':'off','verification');
  settingRow(dl,'Barcode',c.barcode==='qr'?'QR':c.barcode==='code39'?'CODE_39':'CODE_128','barcode');
  settingRow(dl,'Colours',swatches(c.colors),'colors');
  settingRow(dl,'Stock',c.stock?(c.stock.soldOut&&c.stock.kind!=='none'?'sold out ('+num(c.stock.total)+' loaded)':stockText(c)):'','stock');
  if(c.remindBeforeHours)settingRow(dl,'Reminder',c.remindBeforeHours+' h before expiry','remind');
  if(c.refusalText)settingRow(dl,'Refusal text',c.refusalText,'refusalText');
  settingRow(dl,'Instructions',el('div',c.instructions||'—','pre'),'instructions');
  var img=$('image-preview');
  if(c.imageUrl){img.src=samePath(c.imageUrl);show(img,true);}else{img.removeAttribute('src');show(img,false);}
}

function loadStats(){
  var id=current.id;
  return api('/api/v1/campaigns/'+encodeURIComponent(id)+'/stats').then(function(r){
    if(!current||current.id!==id)return;
    var tb=$('funnel').tBodies[0];tb.textContent='';var extra=$('funnel-extra');extra.textContent='';
    if(r.status!==200){tb.appendChild(el('tr')).appendChild(el('td',errText(r),'reason'));return;}
    var s=r.body;var rates=s.rates||{};
    var rows=[['sent','Sent',s.sent,s.sent?'100%':''],['opened','Opened',s.opened,pct(rates.opened||0)+' of sent'],
      ['redeemed','Redeemed',s.redeemed,pct(rates.redeemed||0)+' of sent'+(s.opened?', '+pct(rates.redeemedOfOpened||0)+' of opened':'')],
      ['verified','Verified',s.verified,pct(rates.verified||0)+' of redeemed']];
    rows.forEach(function(row){
      var tr=document.createElement('tr');tr.setAttribute('data-stage',row[0]);
      tr.appendChild(el('th',row[1]));
      var n=el('td',num(row[2]),'num');n.setAttribute('data-stat',row[0]);tr.appendChild(n);
      var bar=el('td',null,'bar');var fill=el('div',null,'fill');fill.style.width=(s.sent?Math.min(100,row[2]/s.sent*100):0)+'%';bar.appendChild(fill);tr.appendChild(bar);
      var rt=el('td',row[3],'muted');rt.setAttribute('data-rate',row[0]);tr.appendChild(rt);
      tb.appendChild(tr);
    });
    [['expired','Expired',s.expired],['stockLeft','Stock left',s.stock&&s.stock.soldOut&&s.stock.kind!=='none'?'0 (sold out)':num(s.stockLeft)],
     ['issued','Issued',s.issued],['deliveryPending','Delivery pending',s.deliveryPending],['deliveryFailed','Delivery failed',s.deliveryFailed]].forEach(function(x){
      if(x[2]==null)return;extra.appendChild(el('dt',x[1]));var dd=el('dd',typeof x[2]==='number'?num(x[2]):x[2]);dd.setAttribute('data-stat',x[0]);extra.appendChild(dd);
    });
  }).catch(function(){});
}

function isoOf(v){if(!v)return null;var d=new Date(v);return isNaN(d)?null:d.toISOString();}
function recordParams(){
  var p=new URLSearchParams();
  if($('r-status').value)p.set('status',$('r-status').value);
  var f=isoOf($('r-from').value),t=isoOf($('r-to').value);
  if(f)p.set('from',f);if(t)p.set('to',t);
  return p;
}
function loadRecords(more){
  var id=current.id;var p=recordParams();p.set('limit',String(PAGE));
  if(more&&cursor)p.set('after',cursor);
  $('records-error').textContent='';$('more').disabled=true;
  return api('/api/v1/campaigns/'+encodeURIComponent(id)+'/records?'+p.toString()).then(function(r){
    if(!current||current.id!==id)return;
    var tb=$('records').tBodies[0];
    if(!more){tb.textContent='';recordCount=0;}
    $('more').disabled=false;
    if(r.status!==200){$('records-error').textContent=errText(r);cursor=null;show($('more'),false);return;}
    (r.body.records||[]).forEach(function(x){tb.appendChild(recordRow(x));recordCount++;});
    cursor=r.body.nextCursor||null;
    show($('more'),!!cursor);show($('no-records'),recordCount===0);
    $('records-count').textContent=recordCount?recordCount+' shown':'';
  }).catch(function(){});
}
function recordRow(x){
  var tr=document.createElement('tr');tr.setAttribute('data-record',x.couponId);
  var who=el('td',x.displayName||x.userId);if(x.displayName)who.appendChild(el('div',x.userId,'muted'));tr.appendChild(who);
  tr.appendChild(el('td',x.channel));
  var st=el('td');st.appendChild(el('span',x.status,'badge'+(x.status==='redeemed'||x.status==='verified'?' badge-yes':x.status==='expired'||x.status==='void'?' badge-no':'')));st.setAttribute('data-field','status');tr.appendChild(st);
  var dv=el('td',x.deliveryStatus);if(x.deliveryError)dv.appendChild(el('div',x.deliveryError,'reason'));tr.appendChild(dv);
  ['issuedAt','sentAt','openedAt','redeemedAt','verifiedAt','expiresAt'].forEach(function(k){tr.appendChild(el('td',fmt(x[k])));});
  var se=el('td');if(x.serial)se.appendChild(el('code',x.serial));se.setAttribute('data-field','serial');tr.appendChild(se);
  return tr;
}
function filenameOf(res,fallback){
  var cd=res.headers.get('Content-Disposition')||'';
  var m=/filename\*=UTF-8''([^;]+)/i.exec(cd);if(m){try{return decodeURIComponent(m[1]);}catch(e){}}
  m=/filename="?([^";]+)"?/i.exec(cd);return m?m[1]:fallback;
}
function download(){
  if(!current)return;
  var p=recordParams();p.set('format','csv');
  var btn=$('download');btn.disabled=true;$('records-error').textContent='';
  fetch('/api/v1/campaigns/'+encodeURIComponent(current.id)+'/records?'+p.toString(),{headers:{'Accept':'text/csv'}}).then(function(res){
    if(res.status===401)unauthorized();
    if(!res.ok)return res.json().catch(function(){return {};}).then(function(b){$('records-error').textContent=errText({status:res.status,body:b});});
    var name=filenameOf(res,current.slug+'-records.csv');
    return res.blob().then(function(blob){
      var url=URL.createObjectURL(blob);var a=document.createElement('a');a.href=url;a.download=name;document.body.appendChild(a);a.click();a.remove();
      setTimeout(function(){URL.revokeObjectURL(url);},60000);
    });
  }).catch(function(){}).then(function(){btn.disabled=false;});
}

function result(id,ok,text){var e=$(id);e.className=ok?'ok':'reason';e.textContent=text;}
function importSummary(b){
  var n=b.rejectedCount!=null?b.rejectedCount:(b.rejected||[]).length;
  var t=num(b.loaded)+' loaded, '+num(n)+' rejected';
  var rows=(b.rejected||[]).slice(0,3).map(function(x){return 'row '+x.row+': '+x.reason;});
  if(rows.length)t+=' ('+rows.join('; ')+(n>rows.length?'; …':'')+')';
  var ul=$('csv-rejected');ul.textContent='';
  if((b.rejected||[]).length>3){(b.rejected||[]).forEach(function(x){ul.appendChild(el('li','row '+x.row+': '+x.reason));});if(n>b.rejected.length)ul.appendChild(el('li','… and '+num(n-b.rejected.length)+' more'));}
  return t;
}
function pollImport(path,id){
  return api(path).then(function(r){
    if(!current||current.id!==id)return;
    if(r.status!==200){result('csv-result',false,errText(r));return;}
    var b=r.body;
    if(b.status==='running'){result('csv-result',true,'Loading… '+num(b.read)+' rows read');return new Promise(function(res){setTimeout(res,500);}).then(function(){return pollImport(path,id);});}
    if(b.status==='failed'){result('csv-result',false,'The import failed: '+(b.error||'unknown reason')+'. Nothing was loaded.');return;}
    result('csv-result',true,importSummary(b));return refreshCurrent();
  });
}
function uploadCsv(e){
  e.preventDefault();if(!current)return;
  var f=$('csv-file').files[0];if(!f){result('csv-result',false,'Choose a CSV file first.');return;}
  var fd=new FormData();fd.append('file',f,f.name);
  var id=current.id;var btn=e.target.querySelector('button');btn.disabled=true;result('csv-result',true,'Uploading…');$('csv-rejected').textContent='';
  api('/api/v1/campaigns/'+encodeURIComponent(id)+'/serials',{method:'POST',body:fd}).then(function(r){
    if(r.status===202){var path=r.headers.get('Location')||('/api/v1/imports/'+encodeURIComponent(r.body.id));result('csv-result',true,'Loading… '+num(r.body.read||0)+' rows read');return pollImport(path,id);}
    if(r.status!==200){result('csv-result',false,errText(r));return;}
    result('csv-result',true,importSummary(r.body));$('csv-file').value='';return refreshCurrent();
  }).catch(function(){}).then(function(){btn.disabled=false;});
}
function addFixed(e){
  e.preventDefault();if(!current)return;
  var q=$('fixed-quantity').value;var btn=e.target.querySelector('button');btn.disabled=true;
  apiJson('/api/v1/campaigns/'+encodeURIComponent(current.id)+'/serials','POST',{fixed:{code:$('fixed-code').value,quantity:q===''?null:Number(q)}}).then(function(r){
    if(r.status!==200){result('fixed-result',false,errText(r));return;}
    result('fixed-result',true,num(r.body.loaded)+' added; stock left '+num(r.body.stock&&r.body.stock.left));
    return refreshCurrent();
  }).catch(function(){}).then(function(){btn.disabled=false;});
}
function uploadImage(e){
  e.preventDefault();if(!current)return;
  var f=$('image-file').files[0];if(!f){result('image-result',false,'Choose an image first.');return;}
  var fd=new FormData();fd.append('file',f,f.name);var btn=e.target.querySelector('button');btn.disabled=true;
  api('/api/v1/campaigns/'+encodeURIComponent(current.id)+'/image',{method:'PUT',body:fd}).then(function(r){
    if(r.status!==200){result('image-result',false,errText(r));return;}
    var b=r.body;result('image-result',true,'Image saved: '+b.width+'×'+b.height+' '+b.type+', '+num(Math.ceil(b.bytes/1024))+' KB'+(b.warning?' ('+b.warning+')':''));
    $('image-file').value='';return refreshCurrent();
  }).catch(function(){}).then(function(){btn.disabled=false;});
}

function pad(n){return (n<10?'0':'')+n;}
function localInput(d){return d.getFullYear()+'-'+pad(d.getMonth()+1)+'-'+pad(d.getDate())+'T'+pad(d.getHours())+':'+pad(d.getMinutes());}
function rewardFields(){
  var t=$('f-reward-type').value;
  document.querySelectorAll('[data-reward]').forEach(function(d){show(d,d.getAttribute('data-reward').split(' ').indexOf(t)>=0);});
}
function numberOrOmit(v){return v===''?undefined:Number(v);}
function campaignBody(){
  var v=function(id){return $(id).value;};
  var body={name:v('f-name'),instructions:v('f-instructions'),visibility:v('f-visibility'),perContactLimit:numberOrOmit(v('f-limit')),
    barcode:v('f-barcode'),verification:$('f-verification').checked,
    colors:{background:v('f-color-background'),button:v('f-color-button'),buttonText:v('f-color-button-text')}};
  if(v('f-slug').trim())body.slug=v('f-slug').trim();
  var s=isoOf(v('f-send-start')),en=isoOf(v('f-send-end'));if(s)body.sendStart=s;if(en)body.sendEnd=en;
  var ex={mode:v('f-expiry-mode')};ex[v('f-expiry-unit')]=numberOrOmit(v('f-expiry-amount'));body.expiry=ex;
  var rb=isoOf(v('f-redeem-by'));if(rb)body.redeemBy=rb;
  var t=v('f-reward-type');var rw={type:t};
  if(t==='gift')rw.text=v('f-reward-text');else rw.value=numberOrOmit(v('f-reward-value'));
  var cur=v('f-currency').trim().toUpperCase();if(cur)rw.currency=cur;
  var ms=numberOrOmit(v('f-min-spend'));if(ms!==undefined)rw.minSpend=ms;
  body.reward=rw;
  return body;
}
function clearErrors(){
  document.querySelectorAll('#create-form [data-error-for]').forEach(function(p){p.textContent='';var i=p.parentNode.querySelector('input,select,textarea');if(i)i.removeAttribute('aria-invalid');});
  show($('create-errors'),false);$('create-errors').querySelector('ul').textContent='';
}
// The API names fields by path (reward.value, expiry.days); the nearest labelled field gets the message.
function fieldSlot(field){
  var slots={};document.querySelectorAll('#create-form [data-error-for]').forEach(function(p){slots[p.getAttribute('data-error-for')]=p;});
  var parts=String(field).split('.');
  while(parts.length){var key=parts.join('.');if(Object.prototype.hasOwnProperty.call(slots,key))return slots[key];parts.pop();}
  return null;
}
function showErrors(r){
  var list=[];
  var d=r.body&&r.body.error&&r.body.error.details;
  if(d&&Array.isArray(d.fields))list=d.fields;
  else{var m=/^([A-Za-z][A-Za-z.]*): (.*)$/.exec(errText(r));list=[m?{field:m[1],message:m[2]}:{field:'',message:errText(r)}];}
  var ul=$('create-errors').querySelector('ul');
  list.forEach(function(f){
    ul.appendChild(el('li',(f.field?f.field+': ':'')+f.message));
    var slot=f.field?fieldSlot(f.field):null;
    if(slot){slot.textContent=(slot.textContent?slot.textContent+'; ':'')+f.message;var i=slot.parentNode.querySelector('input,select,textarea');if(i)i.setAttribute('aria-invalid','true');}
  });
  show($('create-errors'),true);
  var first=document.querySelector('#create-form [aria-invalid=true]');if(first)first.focus();
}
function create(e){
  e.preventDefault();clearErrors();$('create-result').textContent='';
  if(editing)return save();
  var btn=$('create');btn.disabled=true;
  apiJson('/api/v1/campaigns','POST',campaignBody()).then(function(r){
    if(r.status!==201){showErrors(r);return;}
    $('create-form').reset();resetCreate();
    location.hash='campaign/'+encodeURIComponent(r.body.id);
  }).catch(function(){}).then(function(){btn.disabled=false;});
}
function resetCreate(){
  var now=new Date();now.setSeconds(0,0);
  $('f-send-start').value=localInput(now);$('f-send-end').value=localInput(new Date(now.getTime()+30*86400000));
  rewardFields();
}

function formMode(edit){
  $('form-title').textContent=edit?'Edit campaign':'New campaign';
  $('create').textContent=edit?'Save changes':'Create campaign';
  $('f-slug-hint').textContent=edit?'(the name flows use)':'(the name flows use; empty: from the name)';
  $('form-errors-title').textContent=edit?'The campaign was not saved:':'The campaign was not created:';
  show($('cancel-edit'),edit);
}
function enterCreate(){
  editSeq++;editing=null;
  $('create-form').reset();clearErrors();$('create-result').textContent='';$('create').disabled=false;
  formMode(false);resetCreate();
}
function setVal(id,v){$(id).value=v==null?'':String(v);}
function dateInput(iso){if(!iso)return '';var d=new Date(iso);return isNaN(d)?'':localInput(d);}
function fillForm(c){
  setVal('f-name',c.name);setVal('f-slug',c.slug);setVal('f-visibility',c.visibility);setVal('f-instructions',c.instructions);
  setVal('f-send-start',dateInput(c.sendStart));setVal('f-send-end',dateInput(c.sendEnd));setVal('f-redeem-by',dateInput(c.redeemBy));
  setVal('f-limit',c.perContactLimit);
  var ex=c.expiry||{};var unit=ex.hours!=null?'hours':'days';
  setVal('f-expiry-mode',ex.mode);setVal('f-expiry-unit',unit);setVal('f-expiry-amount',ex[unit]);
  var rw=c.reward||{};
  setVal('f-reward-type',rw.type);setVal('f-reward-value',rw.type==='gift'?null:rw.value);setVal('f-reward-text',rw.type==='gift'?rw.text:null);
  setVal('f-currency',rw.currency);setVal('f-min-spend',rw.minSpend);
  setVal('f-barcode',c.barcode);
  var co=c.colors||{};setVal('f-color-background',co.background);setVal('f-color-button',co.button);setVal('f-color-button-text',co.buttonText);
  $('f-verification').checked=!!c.verification;
  rewardFields();
}
// On edit an empty slug is sent (and refused with the reason) rather than derived from the name.
function editBody(){var b=campaignBody();b.slug=$('f-slug').value.trim();return b;}
// Only what the marketer changed is sent: settings the form does not show (or shows rounded to the
// minute, like the sending period) stay as stored. A field emptied on the form is sent as null.
function changedFields(base,now){
  var out={};var any=false;
  Object.keys(base).concat(Object.keys(now)).forEach(function(k){
    if(Object.prototype.hasOwnProperty.call(out,k)||JSON.stringify(base[k])===JSON.stringify(now[k]))return;
    out[k]=now[k]===undefined?null:now[k];any=true;
  });
  return any?out:null;
}
function openEdit(id){
  var seq=++editSeq;editing={id:id,base:null};flash=null;$('edit-result').textContent='';
  $('create-form').reset();clearErrors();formMode(true);
  var btn=$('create');btn.disabled=true;result('create-result',true,'Loading…');
  return api('/api/v1/campaigns/'+encodeURIComponent(id)).then(function(r){
    if(seq!==editSeq)return;
    if(r.status!==200){result('create-result',false,errText(r));return;}
    fillForm(r.body);editing.base=editBody();
    $('form-title').textContent='Edit campaign: '+r.body.name;
    $('create-result').textContent='';btn.disabled=false;$('f-name').focus();
  }).catch(function(){});
}
function save(){
  var ed=editing;if(!ed.base)return;
  var patch=changedFields(ed.base,editBody());
  if(!patch){result('create-result',true,'Nothing changed.');return;}
  var btn=$('create');btn.disabled=true;var seq=editSeq;
  apiJson('/api/v1/campaigns/'+encodeURIComponent(ed.id),'PATCH',patch).then(function(r){
    if(seq!==editSeq)return;
    if(r.status!==200){showErrors(r);return;}
    editing.base=editBody();
    flash={id:ed.id,text:'Saved: '+Object.keys(patch).join(', ')+'.'};
    location.hash='campaign/'+encodeURIComponent(ed.id);
  }).catch(function(){}).then(function(){btn.disabled=false;});
}

function loadFlows(){
  $('flows-error').textContent='';
  return api('/api/v1/flows').then(function(r){
    var box=$('flows');box.textContent='';var errs=$('flows-errors');errs.querySelector('ul').textContent='';show(errs,false);
    if(r.status!==200){$('flows-error').textContent=errText(r);return;}
    var flows=r.body.flows||[];
    if(!flows.length)box.appendChild(el('p','No flows in the flows folder.','muted'));
    flows.forEach(function(f){
      var d=el('div',null,'flow');d.setAttribute('data-flow',f.id);
      var h=el('h3',f.name?f.name+' ':f.id+' ');
      h.appendChild(el('span',f.loaded?'loaded':'not loaded','badge '+(f.loaded?'badge-yes':'badge-no')));d.appendChild(h);
      var meta=el('p',null,'muted');meta.appendChild(el('code',f.id));meta.appendChild(document.createTextNode(' in '+f.file+(f.trigger?' · trigger '+JSON.stringify(f.trigger):'')+(f.channels?' · '+f.channels.join(', '):'')));d.appendChild(meta);
      if(f.error)d.appendChild(el('p',f.error,'reason pre'));
      if(f.steps&&f.steps.length){
        var w=el('div',null,'table-wrap');var t=el('table');var hd=t.createTHead().insertRow();
        ['Step','Type','Entered','Completed','Stopped here'].forEach(function(x,i){var th=el('th',x);if(i>=2)th.className='num';hd.appendChild(th);});
        var tb=t.createTBody();
        f.steps.forEach(function(s){var tr=tb.insertRow();tr.setAttribute('data-step',s.path);tr.appendChild(el('td',s.path));tr.appendChild(el('td',s.type));
          tr.appendChild(el('td',num(s.entered),'num'));tr.appendChild(el('td',num(s.completed),'num'));tr.appendChild(el('td',num(Math.max(0,s.entered-s.completed)),'num'));});
        w.appendChild(t);d.appendChild(w);
      }
      box.appendChild(d);
    });
    (r.body.errors||[]).forEach(function(x){errs.querySelector('ul').appendChild(el('li',x,'pre'));});
    show(errs,(r.body.errors||[]).length>0);
  }).catch(function(){});
}

$('logout').addEventListener('click',function(){fetch('/logout',{method:'POST',headers:{'Accept':'application/json'}}).then(function(){location.href='/login';});});
$('refresh').addEventListener('click',function(){if(current)refreshCurrent().then(function(){loadRecords(false);});else loadCampaigns();});
$('records-filter').addEventListener('submit',function(e){e.preventDefault();if(current)loadRecords(false);});
$('r-status').addEventListener('change',function(){if(current)loadRecords(false);});
$('more').addEventListener('click',function(){if(current&&cursor)loadRecords(true);});
$('download').addEventListener('click',download);
$('csv-form').addEventListener('submit',uploadCsv);
$('fixed-form').addEventListener('submit',addFixed);
$('image-form').addEventListener('submit',uploadImage);
$('create-form').addEventListener('submit',create);
$('edit').addEventListener('click',function(){if(current)location.hash='edit/'+encodeURIComponent(current.id);});
$('cancel-edit').addEventListener('click',function(){if(editing)location.hash='campaign/'+encodeURIComponent(editing.id);});
$('f-reward-type').addEventListener('change',rewardFields);
$('flows-refresh').addEventListener('click',loadFlows);
window.addEventListener('hashchange',route);
resetCreate();
start();
})();
`;
