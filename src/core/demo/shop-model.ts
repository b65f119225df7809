/**
 * The reference shop's tables (docs/shop-schema.md), as data: what `registre demo`
 * creates in every dialect. The engine itself never reads these names; only the demo does.
 */
export type ShopColumnType = 'id' | 'ref' | 'string' | 'text' | 'timestamp' | 'boolean' | 'integer';

export interface ShopColumn {
  readonly name: string;
  readonly type: ShopColumnType;
  readonly nullable: boolean;
}

export interface ShopTable {
  readonly name: string;
  readonly columns: readonly ShopColumn[];
  /** Foreign keys, e-mail and phone columns, and every date column a retention rule reads. */
  readonly indexes: readonly string[];
}

const col = (spec: string): ShopColumn => {
  const [name = '', type = 'string', flag] = spec.split(':');
  return {
    name,
    type: type as ShopColumnType,
    nullable: flag === '?' || (flag === undefined && type !== 'id'),
  };
};

function table(name: string, columns: string, indexes: string): ShopTable {
  return {
    name,
    columns: columns.split(/\s+/).filter(Boolean).map(col),
    indexes: indexes.split(/\s+/).filter(Boolean),
  };
}

// name:type[:?|!]  ("?" nullable, "!" not null; ids are never null, other columns nullable unless "!")
export const SHOP_TABLES: readonly ShopTable[] = [
  table(
    'web_visits',
    'id:id visitor_id:string:! ip_address user_agent page_url referrer occurred_at:timestamp:!',
    'visitor_id occurred_at',
  ),
  table(
    'prospects',
    'id:id email:string:! first_name last_name company phone source collected_at:timestamp:! last_contact_at:timestamp',
    'email phone collected_at last_contact_at',
  ),
  table(
    'customers',
    'id:id email:string:! password_hash first_name last_name phone address_line postal_code city country created_at:timestamp:! last_login_at:timestamp closed_at:timestamp',
    'email phone created_at last_login_at closed_at',
  ),
  table(
    'orders',
    'id:id customer_id:ref:! channel:string:! marketplace placed_at:timestamp:! delivered_at:timestamp status:string:! total_cents:integer:! shipping_name shipping_address shipping_postal_code shipping_city shipping_country shipping_phone',
    'customer_id placed_at delivered_at',
  ),
  table(
    'payments',
    'id:id order_id:ref:! card_last4 card_token card_expiry deferred_debit:boolean:! debited_at:timestamp:!',
    'order_id debited_at',
  ),
  table(
    'invoices',
    'id:id number:string:! order_id:ref:! customer_id:ref issued_at:timestamp:! billing_name billing_address billing_postal_code billing_city billing_country total_cents:integer:!',
    'order_id customer_id issued_at',
  ),
  table(
    'support_tickets',
    'id:id customer_id:ref email:string:! channel:string:! subject:text body:text created_at:timestamp:! closed_at:timestamp',
    'customer_id email created_at closed_at',
  ),
  table(
    'claims',
    'id:id order_id:ref:! kind:string:! opened_at:timestamp:! resolved_at:timestamp notes:text',
    'order_id resolved_at',
  ),
  table(
    'satisfaction_calls',
    'id:id customer_id:ref:! called_at:timestamp:! score:integer comment:text',
    'customer_id called_at',
  ),
  table(
    'ambassadors',
    'id:id email:string:! first_name last_name phone social_handle audience_size:integer status:string:! applied_at:timestamp:! decided_at:timestamp contract_started_at:timestamp contract_ended_at:timestamp last_contact_at:timestamp video_path shipping_address',
    'email phone applied_at decided_at contract_ended_at',
  ),
  table(
    'ambassador_shipments',
    'id:id ambassador_id:ref:! product_sku:string:! address shipped_at:timestamp:!',
    'ambassador_id shipped_at',
  ),
  table(
    'newsletter_subscribers',
    'id:id email:string:! first_name source subscribed_at:timestamp:! consent_text_version unsubscribed_at:timestamp last_click_at:timestamp',
    'email subscribed_at unsubscribed_at last_click_at',
  ),
  table(
    'suppression_list',
    'id:id email_hmac:string:! reason:string:! added_at:timestamp:!',
    'email_hmac added_at',
  ),
  table(
    'candidates',
    'id:id email:string:! first_name last_name phone city cv_path job_ref status:string:! applied_at:timestamp:! process_ended_at:timestamp last_contact_at:timestamp:! talent_pool_consent:boolean:! talent_pool_consent_at:timestamp',
    'email phone process_ended_at last_contact_at',
  ),
  table(
    'distributors',
    'id:id name:string:! contact_email contract_started_at:timestamp:! contract_ended_at:timestamp retention_months:integer end_of_contract:string:!',
    '',
  ),
  table(
    'distributor_orders',
    'id:id distributor_id:ref:! end_customer_name end_customer_email end_customer_phone shipping_address placed_at:timestamp:! status:string:!',
    'distributor_id end_customer_email end_customer_phone placed_at',
  ),
  table(
    'supplier_disputes',
    'id:id distributor_order_id:ref:! supplier:string:! opened_at:timestamp:! resolved_at:timestamp notes:text',
    'distributor_order_id',
  ),
];
