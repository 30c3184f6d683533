/**
 * Every text we write to customers, in each language we speak, one key per message. Variables
 * come in formatted (money, dates and durations through Intl, see format.ts); plurals go
 * through Intl.PluralRules. Marketers' own texts (campaign names, instructions, flow messages)
 * never pass through here: they are shown as written.
 *
 * Register: Japanese in polite です・ます; Chinese as shops in Taiwan write it (Traditional
 * characters, 優惠券 / 兌換 / 核銷 / 使用期限); Thai in a neutral shop register without
 * ค่ะ/ครับ, with กรุณา for requests and no sentence-final full stops.
 */
import type { CouponStatus } from '../coupons/rules.ts';
import type { Locale } from './locales.ts';
import { numberFormat, plurals } from '../lib/intl.ts';

/** Intl's plural category picks the wording: "1 day" / "2 days". */
function plural(locale: Locale, n: number, forms: { one: string; other: string }): string {
  return plurals(locale).select(n) === 'one' ? forms.one : forms.other;
}
const num = (locale: Locale, n: number) => numberFormat(locale).format(n);

type Status = Record<CouponStatus, string>;
type Refusal = { title: string; text: string };

const en = {
  // Coupon page
  status: {
    pending: 'On its way', sent: 'Ready to use', opened: 'Ready to use', redeemed: 'Redeemed', verified: 'Used', expired: 'Expired', void: 'Withdrawn',
  } as Status,
  durationDays: (p: { count: number }) => `${num('en', p.count)} ${plural('en', p.count, { one: 'day', other: 'days' })}`,
  durationHours: (p: { count: number }) => `${num('en', p.count)} ${plural('en', p.count, { one: 'hour', other: 'hours' })}`,
  validAfterRedeem: (p: { duration: string }) => `Valid for ${p.duration} after you redeem`,
  redeemBy: (p: { date: string }) => `Redeem by ${p.date}`,
  useBy: (p: { date: string }) => `Use by ${p.date}`,
  noDeadline: 'No deadline',
  redeemedAt: (p: { date: string }) => `Redeemed ${p.date}`,
  verifiedAt: (p: { date: string }) => `Verified at ${p.date}`,
  yourCode: 'Your code',
  barcodeOf: (p: { code: string }) => `Barcode of ${p.code}`,
  couponUsed: 'This coupon has been used.',
  showCodeToStaff: 'Show this code to the staff.',
  redeemButton: 'Redeem',
  redeemBusy: 'Redeeming…',
  redeemHint: 'Press Redeem at the till: your code will be shown.',
  pendingHint: 'This coupon is still on its way to your chat. Try again in a moment.',
  staffVerifyLink: 'Staff: verify',
  redeemConfirm: 'Show this at the till. Redeem now?',
  redeemConfirmHint: 'Your code can be used only once.',
  redeemNow: 'Redeem now',
  usedOn: (p: { date: string; time: string }) => `Used on ${p.date} at ${p.time}`,
  howToUse: 'How to use',
  pageTitle: (p: { name: string; reward: string }) => `${p.name} – ${p.reward}`,
  testTitle: 'Test coupon',
  testText: 'This coupon was sent as a test. It cannot be used for a real purchase.',
  languageLabel: 'Language',
  // Refusals on the page
  soldOut: (p: { name: string }): Refusal => ({ title: 'Sold out', text: `Sorry, "${p.name}" is sold out.` }),
  limitReached: (p: { limit: number }): Refusal => ({
    title: 'Limit reached',
    text: p.limit === 1 ? 'You have already redeemed this coupon.' : `You have already redeemed ${num('en', p.limit)} of these coupons, the most allowed.`,
  }),
  expired: { title: 'This coupon has expired', text: 'Its deadline has passed.' } as Refusal,
  notYet: { title: 'Not ready yet', text: 'This coupon is still on its way to your chat. Try again in a moment.' } as Refusal,
  withdrawn: { title: 'This coupon was withdrawn', text: 'It could not be delivered, so it was withdrawn.' } as Refusal,
  alreadyVerified: (p: { date: string | null }): Refusal => ({
    title: 'Already verified', text: p.date ? `This coupon was verified on ${p.date}.` : 'This coupon has already been verified.',
  }),
  notRedeemed: { title: 'Not redeemed yet', text: 'The customer has to press Redeem first.' } as Refusal,
  verificationDisabled: (p: { name: string }): Refusal => ({ title: 'No verification needed', text: `"${p.name}" does not need staff verification.` }),
  couponNotFound: { title: 'Coupon not found', text: 'This link does not lead to a coupon. Check that you opened the whole link from your chat.' } as Refusal,
  otherRefusal: { title: 'Sorry', text: 'That did not work. Please try again.' } as Refusal,
  // Staff verification page
  verifyTitle: 'Confirm verification?',
  codeLine: (p: { code: string }) => `Code: ${p.code}`,
  verifyStaffOnly: 'Staff only. Once verified, the coupon is used and cannot be verified again.',
  cancel: 'Cancel',
  confirm: 'Confirm',
  verifyBusy: 'Verifying…',
  verifiedNotice: (p: { date: string }): Refusal => ({ title: 'Verified', text: `Verified at ${p.date}.` }),
  // Other pages
  listNotFound: (p: { keyword: string }): Refusal => ({
    title: 'Page not found', text: `This link does not lead to a coupon list. Send "${p.keyword}" in the chat to get a fresh link.`,
  }),
  serverError: { title: 'Something went wrong', text: 'Sorry, something went wrong on our side. Please try again in a moment.' } as Refusal,
  badRequest: { title: 'That did not work', text: 'Please go back and try again.' } as Refusal,
  myCouponsTitle: 'My coupons',
  noCouponsYet: 'You have no coupons yet.',
  // The coupon card in chat
  cardButton: 'Open coupon',
  cardAltText: (p: { name: string; reward: string; deadline: string | null }) =>
    p.deadline ? `Coupon: ${p.name} – ${p.reward} (${p.deadline})` : `Coupon: ${p.name} – ${p.reward}`,
  // The reward in words
  percentOff: (p: { percent: number }) => `${num('en', p.percent)}% off`,
  amountOff: (p: { amount: string }) => `${p.amount} off`,
  giftDefault: 'Gift',
  withMinSpend: (p: { reward: string; amount: string }) => `${p.reward} (min. spend ${p.amount})`,
  /** How shops write an amount in their own currency; null: Intl's currency format. */
  homeMoney: null as null | { currency: string; format: (p: { amount: string }) => string },
  // Chat replies
  refusedSoldOut: 'Sorry, this coupon is all gone.',
  refusedLimitReached: 'You already have this coupon.',
  refusedOutsidePeriod: 'Sorry, this offer is not available right now.',
  refusedOther: 'Sorry, we could not send you this coupon.',
  askRetryText: 'Please answer with a short text.',
  askRetryNumber: 'Please answer with a number.',
  askRetryEmail: 'Please answer with an email address, e.g. name@example.com.',
  askRetryPhone: 'Please answer with a phone number.',
  askRetryChoice: 'Please choose one of the options.',
  myCouponsReply: (p: { url: string }) => `Your coupons: ${p.url}`,
  reminder: (p: { name: string; date: string | null; url: string }) => p.date
    ? `Your coupon "${p.name}" expires on ${p.date}. ${p.url}`
    : `Your coupon "${p.name}" expires soon. ${p.url}`,
};

/** The catalogue's shape: every language has every key, with the same variables. */
export type Messages = { [K in keyof typeof en]: (typeof en)[K] extends string ? string : (typeof en)[K] };

const ja: Messages = {
  status: {
    pending: 'お届け中', sent: 'ご利用いただけます', opened: 'ご利用いただけます', redeemed: '引き換え済み', verified: '使用済み', expired: '有効期限切れ', void: '取り消し済み',
  },
  durationDays: (p) => `${num('ja', p.count)}日間`,
  durationHours: (p) => `${num('ja', p.count)}時間`,
  validAfterRedeem: (p) => `引き換え後${p.duration}有効です`,
  redeemBy: (p) => `${p.date}までに引き換えてください`,
  useBy: (p) => `有効期限：${p.date}`,
  noDeadline: '有効期限はありません',
  redeemedAt: (p) => `引き換え日時：${p.date}`,
  verifiedAt: (p) => `使用日時：${p.date}`,
  yourCode: 'クーポンコード',
  barcodeOf: (p) => `${p.code} のバーコード`,
  couponUsed: 'このクーポンは使用済みです。',
  showCodeToStaff: 'お会計の際にこの画面をスタッフにご提示ください。',
  redeemButton: '引き換える',
  redeemBusy: '処理しています…',
  redeemHint: 'レジで「引き換える」を押すと、コードが表示されます。',
  pendingHint: 'クーポンをトークにお届けしている途中です。少し時間をおいてから、もう一度お試しください。',
  staffVerifyLink: 'スタッフ用：使用済みにする',
  redeemConfirm: 'レジでこの画面をご提示ください。今すぐ引き換えますか？',
  redeemConfirmHint: 'コードは1回のみご利用いただけます。',
  redeemNow: '今すぐ引き換える',
  usedOn: (p) => `${p.date} ${p.time}にご利用済みです`,
  howToUse: 'ご利用方法',
  pageTitle: (p) => `${p.name}｜${p.reward}`,
  testTitle: 'テスト送信のクーポンです',
  testText: 'このクーポンはテスト用のため、実際のお買い物にはご利用いただけません。',
  languageLabel: '表示言語',
  soldOut: (p) => ({ title: '終了しました', text: `申し訳ございません。「${p.name}」は予定数に達したため終了しました。` }),
  limitReached: (p) => ({
    title: 'ご利用回数の上限に達しました',
    text: p.limit === 1 ? 'このクーポンはすでに引き換え済みです。' : `このクーポンはお一人様${num('ja', p.limit)}回までのご利用です。すでに上限まで引き換えられています。`,
  }),
  expired: { title: '有効期限が切れています', text: 'このクーポンは有効期限を過ぎています。' },
  notYet: { title: 'まだご利用いただけません', text: 'クーポンをトークにお届けしている途中です。少し時間をおいてから、もう一度お試しください。' },
  withdrawn: { title: 'このクーポンは取り消されました', text: 'お届けできなかったため、このクーポンは取り消されました。' },
  alreadyVerified: (p) => ({ title: '使用済みです', text: p.date ? `このクーポンは${p.date}に使用済みです。` : 'このクーポンはすでに使用済みです。' }),
  notRedeemed: { title: 'まだ引き換えられていません', text: 'お客様に「引き換える」を押していただいてから、もう一度お試しください。' },
  verificationDisabled: (p) => ({ title: '確認は不要です', text: `「${p.name}」はスタッフによる確認が不要なクーポンです。` }),
  couponNotFound: { title: 'クーポンが見つかりません', text: 'このリンクからはクーポンを表示できません。トークに届いたリンクを最後まで正しく開いているかご確認ください。' },
  otherRefusal: { title: '申し訳ございません', text: 'うまく処理できませんでした。もう一度お試しください。' },
  verifyTitle: '使用済みにしますか？',
  codeLine: (p) => `コード：${p.code}`,
  verifyStaffOnly: 'スタッフ専用の画面です。使用済みにすると、このクーポンは再びご利用いただけません。',
  cancel: 'キャンセル',
  confirm: '使用済みにする',
  verifyBusy: '処理しています…',
  verifiedNotice: (p) => ({ title: '使用済みにしました', text: `${p.date}に使用済みにしました。` }),
  listNotFound: (p) => ({
    title: 'ページが見つかりません', text: `このリンクからはクーポン一覧を表示できません。トークで「${p.keyword}」と送っていただくと、新しいリンクをお届けします。`,
  }),
  serverError: { title: 'エラーが発生しました', text: '申し訳ございません。ただいま処理できませんでした。少し時間をおいてから、もう一度お試しください。' },
  badRequest: { title: 'うまく処理できませんでした', text: '前の画面に戻って、もう一度お試しください。' },
  myCouponsTitle: 'マイクーポン',
  noCouponsYet: 'お持ちのクーポンはまだありません。',
  cardButton: 'クーポンを開く',
  cardAltText: (p) => p.deadline ? `クーポン：${p.name}（${p.reward}）${p.deadline}` : `クーポン：${p.name}（${p.reward}）`,
  percentOff: (p) => `${num('ja', p.percent)}%オフ`,
  amountOff: (p) => `${p.amount}引き`,
  giftDefault: 'プレゼント',
  withMinSpend: (p) => `${p.reward}（${p.amount}以上のお買い上げで）`,
  homeMoney: { currency: 'JPY', format: (p) => `${p.amount}円` },
  refusedSoldOut: '申し訳ございません。このクーポンの配布は終了しました。',
  refusedLimitReached: 'このクーポンはすでにお持ちです。',
  refusedOutsidePeriod: '申し訳ございません。このクーポンは現在配布しておりません。',
  refusedOther: '申し訳ございません。クーポンをお送りできませんでした。',
  askRetryText: '短い文章でお答えください。',
  askRetryNumber: '数字でお答えください。',
  askRetryEmail: 'メールアドレスでお答えください（例：name@example.com）。',
  askRetryPhone: '電話番号でお答えください。',
  askRetryChoice: '選択肢の中からお選びください。',
  myCouponsReply: (p) => `お持ちのクーポンはこちらからご覧いただけます。\n${p.url}`,
  reminder: (p) => p.date
    ? `クーポン「${p.name}」の有効期限は${p.date}までです。お早めにご利用ください。\n${p.url}`
    : `クーポン「${p.name}」の有効期限がまもなく切れます。お早めにご利用ください。\n${p.url}`,
};

/** "10% off" is written as the share still paid: 9折, 85折. */
function zhDiscount(percent: number): string {
  const paid = 100 - percent;
  return Number.isInteger(paid) && paid > 0 && paid < 100 ? `${paid % 10 === 0 ? paid / 10 : paid}折` : `折扣${num('zh-TW', percent)}%`;
}

const zhTW: Messages = {
  status: {
    pending: '傳送中', sent: '可使用', opened: '可使用', redeemed: '已兌換', verified: '已使用', expired: '已過期', void: '已取消',
  },
  durationDays: (p) => `${num('zh-TW', p.count)}天`,
  durationHours: (p) => `${num('zh-TW', p.count)}小時`,
  validAfterRedeem: (p) => `兌換後${p.duration}內有效`,
  redeemBy: (p) => `請於${p.date}前兌換`,
  useBy: (p) => `使用期限：${p.date}`,
  noDeadline: '無使用期限',
  redeemedAt: (p) => `兌換時間：${p.date}`,
  verifiedAt: (p) => `使用時間：${p.date}`,
  yourCode: '優惠碼',
  barcodeOf: (p) => `優惠碼 ${p.code} 的條碼`,
  couponUsed: '此優惠券已使用。',
  showCodeToStaff: '結帳時請出示此畫面給店員。',
  redeemButton: '立即兌換',
  redeemBusy: '兌換中…',
  redeemHint: '請在結帳時按下「立即兌換」，畫面上就會顯示優惠碼。',
  pendingHint: '優惠券正在傳送到您的聊天室，請稍後再試一次。',
  staffVerifyLink: '店員專用：核銷',
  redeemConfirm: '請在結帳時出示此畫面。確定要立即兌換嗎？',
  redeemConfirmHint: '優惠碼僅能使用一次。',
  redeemNow: '確定兌換',
  usedOn: (p) => `已於 ${p.date} ${p.time} 使用`,
  howToUse: '使用說明',
  pageTitle: (p) => `${p.name}｜${p.reward}`,
  testTitle: '測試用優惠券',
  testText: '這是一張測試用的優惠券，無法於實際消費時使用。',
  languageLabel: '語言',
  soldOut: (p) => ({ title: '已售完', text: `很抱歉，「${p.name}」已全數兌換完畢。` }),
  limitReached: (p) => ({
    title: '已達兌換上限',
    text: p.limit === 1 ? '您已經兌換過這張優惠券了。' : `此優惠券每人限兌換${num('zh-TW', p.limit)}次，您已達上限。`,
  }),
  expired: { title: '優惠券已過期', text: '此優惠券已超過使用期限。' },
  notYet: { title: '暫時無法使用', text: '優惠券還在傳送中，請稍後再試一次。' },
  withdrawn: { title: '此優惠券已取消', text: '由於無法送達，此優惠券已取消。' },
  alreadyVerified: (p) => ({ title: '已核銷', text: p.date ? `此優惠券已於${p.date}核銷。` : '此優惠券已經核銷過了。' }),
  notRedeemed: { title: '尚未兌換', text: '請顧客先按下「立即兌換」，再進行核銷。' },
  verificationDisabled: (p) => ({ title: '不需核銷', text: `「${p.name}」不需要由店員核銷。` }),
  couponNotFound: { title: '找不到優惠券', text: '這個連結無法開啟優惠券，請確認您從聊天室開啟的是完整的連結。' },
  otherRefusal: { title: '很抱歉', text: '操作沒有成功，請再試一次。' },
  verifyTitle: '確定要核銷嗎？',
  codeLine: (p) => `優惠碼：${p.code}`,
  verifyStaffOnly: '僅限店員操作。核銷後，此優惠券即視為已使用，無法再次核銷。',
  cancel: '取消',
  confirm: '確定核銷',
  verifyBusy: '核銷中…',
  verifiedNotice: (p) => ({ title: '核銷完成', text: `已於${p.date}核銷。` }),
  listNotFound: (p) => ({
    title: '找不到頁面', text: `這個連結無法開啟優惠券列表。請在聊天室輸入「${p.keyword}」，我們會傳送新的連結給您。`,
  }),
  serverError: { title: '系統發生錯誤', text: '很抱歉，系統暫時無法處理，請稍後再試一次。' },
  badRequest: { title: '操作沒有成功', text: '請回到上一頁再試一次。' },
  myCouponsTitle: '我的優惠券',
  noCouponsYet: '您目前還沒有優惠券。',
  cardButton: '查看優惠券',
  cardAltText: (p) => p.deadline ? `優惠券：${p.name}（${p.reward}），${p.deadline}` : `優惠券：${p.name}（${p.reward}）`,
  percentOff: (p) => zhDiscount(p.percent),
  amountOff: (p) => `折抵${p.amount}`,
  giftDefault: '贈品',
  withMinSpend: (p) => `${p.reward}（消費滿${p.amount}可使用）`,
  homeMoney: { currency: 'TWD', format: (p) => `${p.amount}元` },
  refusedSoldOut: '很抱歉，此優惠券已經發送完畢。',
  refusedLimitReached: '您已經領取過這張優惠券了。',
  refusedOutsidePeriod: '很抱歉，此優惠活動目前不在發送期間。',
  refusedOther: '很抱歉，目前無法發送優惠券給您。',
  askRetryText: '請用簡短的文字回覆。',
  askRetryNumber: '請輸入數字。',
  askRetryEmail: '請輸入電子郵件地址，例如 name@example.com。',
  askRetryPhone: '請輸入電話號碼。',
  askRetryChoice: '請從選項中擇一回覆。',
  myCouponsReply: (p) => `點選連結即可查看您的優惠券：\n${p.url}`,
  reminder: (p) => p.date
    ? `您的優惠券「${p.name}」將於${p.date}到期，請把握時間使用。\n${p.url}`
    : `您的優惠券「${p.name}」即將到期，請把握時間使用。\n${p.url}`,
};

const th: Messages = {
  status: {
    pending: 'กำลังส่ง', sent: 'พร้อมใช้', opened: 'พร้อมใช้', redeemed: 'แลกแล้ว', verified: 'ใช้แล้ว', expired: 'หมดอายุ', void: 'ยกเลิกแล้ว',
  },
  durationDays: (p) => `${num('th', p.count)} วัน`,
  durationHours: (p) => `${num('th', p.count)} ชั่วโมง`,
  validAfterRedeem: (p) => `ใช้ได้ ${p.duration} หลังกดแลก`,
  redeemBy: (p) => `กดแลกได้ถึง ${p.date}`,
  useBy: (p) => `ใช้ได้ถึง ${p.date}`,
  noDeadline: 'ไม่มีวันหมดอายุ',
  redeemedAt: (p) => `แลกเมื่อ ${p.date}`,
  verifiedAt: (p) => `ใช้เมื่อ ${p.date}`,
  yourCode: 'รหัสคูปอง',
  barcodeOf: (p) => `บาร์โค้ดของรหัส ${p.code}`,
  couponUsed: 'คูปองนี้ใช้แล้ว',
  showCodeToStaff: 'กรุณาแสดงรหัสนี้กับพนักงานที่จุดชำระเงิน',
  redeemButton: 'แลกคูปอง',
  redeemBusy: 'กำลังแลก…',
  redeemHint: 'กด "แลกคูปอง" ที่จุดชำระเงิน แล้วรหัสจะแสดงขึ้นมา',
  pendingHint: 'คูปองกำลังส่งไปที่แชทของคุณ กรุณาลองใหม่อีกครั้งในอีกสักครู่',
  staffVerifyLink: 'สำหรับพนักงาน: ยืนยันการใช้',
  redeemConfirm: 'กรุณาแสดงหน้าจอนี้ที่จุดชำระเงิน ต้องการแลกคูปองตอนนี้เลยหรือไม่',
  redeemConfirmHint: 'รหัสนี้ใช้ได้เพียงครั้งเดียว',
  redeemNow: 'แลกเลย',
  usedOn: (p) => `ใช้แล้วเมื่อวันที่ ${p.date} เวลา ${p.time}`,
  howToUse: 'วิธีใช้',
  pageTitle: (p) => `${p.name} – ${p.reward}`,
  testTitle: 'คูปองทดสอบ',
  testText: 'คูปองนี้ส่งมาเพื่อทดสอบ ใช้ซื้อสินค้าจริงไม่ได้',
  languageLabel: 'ภาษา',
  soldOut: (p) => ({ title: 'หมดแล้ว', text: `ขออภัย "${p.name}" หมดแล้ว` }),
  limitReached: (p) => ({
    title: 'ใช้สิทธิ์ครบแล้ว',
    text: p.limit === 1 ? 'คุณแลกคูปองนี้ไปแล้ว' : `คูปองนี้แลกได้ ${num('th', p.limit)} ครั้งต่อคน และคุณใช้สิทธิ์ครบแล้ว`,
  }),
  expired: { title: 'คูปองหมดอายุแล้ว', text: 'คูปองนี้เลยวันหมดอายุแล้ว' },
  notYet: { title: 'ยังใช้ไม่ได้', text: 'คูปองกำลังส่งไปที่แชทของคุณ กรุณาลองใหม่อีกครั้งในอีกสักครู่' },
  withdrawn: { title: 'คูปองนี้ถูกยกเลิกแล้ว', text: 'ส่งคูปองนี้ไม่สำเร็จ จึงถูกยกเลิก' },
  alreadyVerified: (p) => ({ title: 'ใช้ไปแล้ว', text: p.date ? `คูปองนี้ถูกใช้ไปแล้วเมื่อ ${p.date}` : 'คูปองนี้ถูกใช้ไปแล้ว' }),
  notRedeemed: { title: 'ยังไม่ได้แลก', text: 'ให้ลูกค้ากด "แลกคูปอง" ก่อน แล้วจึงยืนยันการใช้' },
  verificationDisabled: (p) => ({ title: 'ไม่ต้องยืนยัน', text: `"${p.name}" ไม่ต้องให้พนักงานยืนยันการใช้` }),
  couponNotFound: { title: 'ไม่พบคูปอง', text: 'ลิงก์นี้ไม่ได้พาไปที่คูปอง กรุณาตรวจสอบว่าเปิดลิงก์จากแชทครบทั้งลิงก์' },
  otherRefusal: { title: 'ขออภัย', text: 'ทำรายการไม่สำเร็จ กรุณาลองใหม่อีกครั้ง' },
  verifyTitle: 'ยืนยันการใช้คูปองนี้?',
  codeLine: (p) => `รหัส: ${p.code}`,
  verifyStaffOnly: 'สำหรับพนักงานเท่านั้น เมื่อยืนยันแล้ว คูปองจะถือว่าใช้แล้วและยืนยันซ้ำไม่ได้',
  cancel: 'ยกเลิก',
  confirm: 'ยืนยัน',
  verifyBusy: 'กำลังยืนยัน…',
  verifiedNotice: (p) => ({ title: 'ยืนยันแล้ว', text: `ยืนยันการใช้เมื่อ ${p.date}` }),
  listNotFound: (p) => ({
    title: 'ไม่พบหน้านี้', text: `ลิงก์นี้ไม่ได้พาไปที่รายการคูปอง พิมพ์ "${p.keyword}" ในแชทเพื่อรับลิงก์ใหม่`,
  }),
  serverError: { title: 'เกิดข้อผิดพลาด', text: 'ขออภัย ระบบขัดข้องชั่วคราว กรุณาลองใหม่อีกครั้งในอีกสักครู่' },
  badRequest: { title: 'ทำรายการไม่สำเร็จ', text: 'กรุณากลับไปหน้าก่อนหน้าแล้วลองใหม่อีกครั้ง' },
  myCouponsTitle: 'คูปองของฉัน',
  noCouponsYet: 'คุณยังไม่มีคูปอง',
  cardButton: 'เปิดคูปอง',
  cardAltText: (p) => p.deadline ? `คูปอง: ${p.name} – ${p.reward} (${p.deadline})` : `คูปอง: ${p.name} – ${p.reward}`,
  percentOff: (p) => `ลด ${num('th', p.percent)}%`,
  amountOff: (p) => `ลด ${p.amount}`,
  giftDefault: 'ของขวัญ',
  withMinSpend: (p) => `${p.reward} (เมื่อซื้อครบ ${p.amount})`,
  homeMoney: { currency: 'THB', format: (p) => `${p.amount} บาท` },
  refusedSoldOut: 'ขออภัย คูปองนี้หมดแล้ว',
  refusedLimitReached: 'คุณได้รับคูปองนี้ไปแล้ว',
  refusedOutsidePeriod: 'ขออภัย ขณะนี้ไม่อยู่ในช่วงแจกคูปองนี้',
  refusedOther: 'ขออภัย ไม่สามารถส่งคูปองให้คุณได้',
  askRetryText: 'กรุณาตอบเป็นข้อความสั้น ๆ',
  askRetryNumber: 'กรุณาตอบเป็นตัวเลข',
  askRetryEmail: 'กรุณาตอบเป็นอีเมล เช่น name@example.com',
  askRetryPhone: 'กรุณาตอบเป็นเบอร์โทรศัพท์',
  askRetryChoice: 'กรุณาเลือกจากตัวเลือกที่มีให้',
  myCouponsReply: (p) => `ดูคูปองของคุณได้ที่นี่\n${p.url}`,
  reminder: (p) => p.date
    ? `คูปอง "${p.name}" ของคุณใช้ได้ถึง ${p.date} อย่าลืมใช้ก่อนหมดอายุ\n${p.url}`
    : `คูปอง "${p.name}" ของคุณใกล้หมดอายุแล้ว อย่าลืมใช้ก่อนหมดอายุ\n${p.url}`,
};

export const catalogue: Record<Locale, Messages> = { en, ja, 'zh-TW': zhTW, th };

export function messages(locale: Locale): Messages {
  return catalogue[locale];
}
