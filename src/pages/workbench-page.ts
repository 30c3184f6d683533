import { html, jsonForScript, renderPage, trusted } from './html.ts';

/** The conversation the workbench sends into, as the embedding inbox names it. */
export type WorkbenchTarget = { conversationId: string } | { channel: string; externalId: string } | null;

const css = `
main{max-width:720px}
.bar{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 12px}
.bar input,.bar select{flex:1 1 140px;min-width:0;padding:10px 12px;border:1px solid #ccd;border-radius:10px;font:inherit;background:#fff;color:#1a1a1a}
.item{cursor:pointer;width:100%;text-align:left;border:0;font:inherit;display:block}
.item:focus-visible{outline:3px solid #0b63c5}
.row{display:flex;justify-content:space-between;gap:8px;align-items:baseline}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8rem;background:#eef;color:#224;margin-right:4px}
.badge-no{background:#fde8e8;color:#8a1c1c}
.badge-yes{background:#e6f6ea;color:#125b2a}
.reason{color:#8a1c1c;font-size:.9rem;margin:4px 0 0}
.pre{white-space:pre-wrap;overflow-wrap:anywhere}
.hidden{display:none}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:8px 0}
dt{color:#666}dd{margin:0}
`;

/**
 * The agents' workbench: embeddable beside a conversation in an inbox. For a signed-in session
 * (the cookie carries the API calls); everything comes from the workbench JSON API and is put
 * into the page with textContent, never as markup.
 */
export function workbenchPage(target: WorkbenchTarget, nonce: string): string {
  const body = html`<main>
<h1>Coupons</h1>
<section id="app">
<div class="bar">
<input id="conversation" placeholder="Conversation id" aria-label="Conversation id" autocomplete="off">
</div>
<p id="chat" class="muted" role="status"></p>
<div class="bar">
<input id="q" type="search" placeholder="Search by name" aria-label="Search by name" autocomplete="off">
<select id="reward" aria-label="Reward"><option value="">Any reward</option><option value="percent">% off</option><option value="amount">Amount off</option><option value="gift">Gift / other</option></select>
<select id="visibility" aria-label="Visibility"><option value="">Public and private</option><option value="public">Public</option><option value="private">Private</option></select>
</div>
<p id="error" class="reason" role="alert"></p>
<div id="list-view"><ul id="list" class="list"></ul><p id="empty" class="muted hidden">No coupon can be sent now.</p></div>
<section id="detail" class="card hidden"><div class="card-body">
<h2 id="d-name"></h2>
<p class="reward" id="d-reward"></p>
<dl>
<dt>Visibility</dt><dd id="d-visibility"></dd>
<dt>Stock left</dt><dd id="d-stock"></dd>
<dt>Sending period</dt><dd id="d-period"></dd>
<dt>Per customer</dt><dd id="d-limit"></dd>
</dl>
<div id="d-instructions" class="pre muted"></div>
<p id="d-reason" class="reason"></p>
<p id="d-result" role="status"></p>
<div class="actions"><button class="btn btn-secondary" id="back" type="button">Back</button><button class="btn" id="send" type="button">Send</button></div>
</div></section>
<p class="muted"><button class="btn btn-secondary" id="logout" type="button">Sign out</button></p>
</section>
</main>`;
  return renderPage({ title: 'Coupon workbench', nonce, body, css, script: html`${trusted(`var TARGET=`)}${jsonForScript(target)};${trusted(clientScript)}` });
}

const clientScript = `
(function(){
var $=function(id){return document.getElementById(id);};
var show=function(el,on){el.classList.toggle('hidden',!on);};
var coupons=[];var current=null;var timer=null;
function target(){
  var v=$('conversation').value.trim();
  if(TARGET&&TARGET.channel&&v===TARGET.externalId)return {channel:TARGET.channel,externalId:TARGET.externalId};
  return v?{conversationId:v}:null;
}
function api(path,opts){
  opts=opts||{};opts.headers=Object.assign({'Accept':'application/json'},opts.headers||{});
  return fetch(path,opts).then(function(res){
    return res.json().catch(function(){return {};}).then(function(body){
      if(res.status===401){login();throw new Error('unauthorized');}
      return {status:res.status,body:body};
    });
  });
}
// The session ended: sign in again and come back to this chat.
function login(){location.href='/login?next='+encodeURIComponent(location.pathname+location.search);}
function fmt(iso){var d=new Date(iso);return isNaN(d)?iso:d.toLocaleString();}
function load(){
  var p=new URLSearchParams();
  var q=$('q').value.trim();if(q)p.set('q',q);
  if($('reward').value)p.set('reward',$('reward').value);
  if($('visibility').value)p.set('visibility',$('visibility').value);
  var t=target();
  if(t&&t.conversationId)p.set('conversationId',t.conversationId);
  if(t&&t.channel){p.set('channel',t.channel);p.set('externalId',t.externalId);}
  $('error').textContent='';
  return api('/api/v1/workbench/coupons?'+p.toString()).then(function(r){
    if(r.status!==200){$('error').textContent=(r.body.error&&r.body.error.message)||('Error '+r.status);coupons=[];render();return;}
    coupons=r.body.coupons||[];
    var c=r.body.conversation;
    $('chat').textContent=c?(c.active?'Chat is active ('+c.channel+').':'Chat is not active: '+(c.reason||'')):(t?'':'Enter a conversation id to send.');
    render();
    if(current){var again=coupons.filter(function(x){return x.campaignId===current.campaignId;})[0];if(again){current=again;detail();}}
  }).catch(function(){});
}
function render(){
  var list=$('list');list.textContent='';
  coupons.forEach(function(c){
    var li=document.createElement('li');
    var b=document.createElement('button');b.type='button';b.className='item';b.setAttribute('data-campaign',c.campaignId);
    var row=document.createElement('div');row.className='row';
    var h=document.createElement('h2');h.textContent=c.name;row.appendChild(h);
    var s=document.createElement('span');s.className='muted';s.textContent=c.stockLeft+' left';row.appendChild(s);
    b.appendChild(row);
    var r=document.createElement('p');r.className='reward';r.textContent=c.rewardText;b.appendChild(r);
    var m=document.createElement('p');m.className='muted';
    var v=document.createElement('span');v.className='badge';v.textContent=c.visibility;m.appendChild(v);
    if(c.sendable===true||c.sendable===false){var k=document.createElement('span');k.className='badge '+(c.sendable?'badge-yes':'badge-no');k.textContent=c.sendable?'can send':'cannot send';m.appendChild(k);}
    m.appendChild(document.createTextNode('until '+fmt(c.sendEnd)));
    b.appendChild(m);
    if(c.sendable===false&&c.reason){var why=document.createElement('p');why.className='reason';why.textContent=c.reason;b.appendChild(why);}
    b.addEventListener('click',function(){current=c;$('d-result').textContent='';$('d-result').className='';detail();});
    li.appendChild(b);list.appendChild(li);
  });
  show($('empty'),coupons.length===0);
}
function detail(){
  var c=current;
  show($('list-view'),false);show($('detail'),true);
  $('d-name').textContent=c.name;$('d-reward').textContent=c.rewardText;
  $('d-visibility').textContent=c.visibility==='private'?'Private (sent by an agent into one chat)':'Public';
  $('d-stock').textContent=String(c.stockLeft);
  $('d-period').textContent=fmt(c.sendStart)+' – '+fmt(c.sendEnd);
  $('d-limit').textContent=c.perContactLimit!=null?String(c.perContactLimit):'';
  $('d-instructions').textContent=c.instructions||'';
  var t=target();
  $('d-reason').textContent=!t?'Enter a conversation id to send this coupon.':(c.sendable===false?(c.reason||'It cannot be sent to this chat.'):'');
  $('send').disabled=!t||c.sendable===false;
}
function back(){current=null;show($('detail'),false);show($('list-view'),true);}
function send(){
  var t=target();if(!t||!current)return;
  var btn=$('send');btn.disabled=true;btn.textContent='Sending…';
  var body=Object.assign({campaignId:current.campaignId},t);
  api('/api/v1/workbench/send',{method:'POST',headers:{'Content-Type':'application/json'},body:JSON.stringify(body)}).then(function(r){
    btn.textContent='Send';
    var out=$('d-result');out.textContent='';
    if(r.status===201){
      out.className='notice notice-ok';
      out.appendChild(document.createTextNode('Sent. Coupon page: '));
      var a=document.createElement('a');a.href=r.body.coupon.pageUrl;a.target='_blank';a.rel='noopener noreferrer';a.textContent=r.body.coupon.pageUrl;out.appendChild(a);
    }else{
      out.className='notice';
      out.textContent='Not sent: '+((r.body.error&&r.body.error.message)||('error '+r.status));
    }
    return load();
  }).catch(function(){btn.textContent='Send';btn.disabled=false;});
}
$('q').addEventListener('input',function(){clearTimeout(timer);timer=setTimeout(load,250);});
$('reward').addEventListener('change',load);
$('visibility').addEventListener('change',load);
$('conversation').addEventListener('change',load);
$('back').addEventListener('click',back);
$('send').addEventListener('click',send);
$('logout').addEventListener('click',function(){fetch('/logout',{method:'POST',headers:{'Accept':'application/json'}}).then(function(){location.href='/login';});});
if(TARGET)$('conversation').value=TARGET.conversationId||TARGET.externalId||'';
load();
})();
`;
