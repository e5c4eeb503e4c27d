# The event bus (<prefix>mindlinks), an archive of everything published on it,
# and per consuming service one rule selecting the detail-types it consumes →
# its SQS queue, with a dead-letter queue and SQS redrive as the safety net
# (the consumer dead-letters a failing message itself at max_receives).
variable "resource_prefix" {
  type = string
}

variable "bus" {
  description = "Logical bus name (generated: mindlinks)."
  type        = string
}

variable "subscriptions" {
  description = "Consuming services (generated): service => event pattern, SQS maxReceiveCount."
  type = map(object({
    event_pattern     = string
    max_receive_count = number
  }))
}

variable "kms_key_arn" {
  description = "The messaging key (bus, queues)."
  type        = string
}

variable "archive_retention_days" {
  type    = number
  default = 365
}

resource "aws_cloudwatch_event_bus" "this" {
  name               = "${var.resource_prefix}${var.bus}"
  kms_key_identifier = var.kms_key_arn
}

resource "aws_cloudwatch_event_archive" "this" {
  name               = "${var.resource_prefix}${var.bus}-all"
  description        = "Every event published on the bus (replayable)"
  event_source_arn   = aws_cloudwatch_event_bus.this.arn
  retention_days     = var.archive_retention_days
  kms_key_identifier = var.kms_key_arn
}

resource "aws_sqs_queue" "dlq" {
  for_each                  = var.subscriptions
  name                      = "${var.resource_prefix}${each.key}-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
}

resource "aws_sqs_queue" "this" {
  for_each                   = var.subscriptions
  name                       = "${var.resource_prefix}${each.key}"
  visibility_timeout_seconds = 30
  receive_wait_time_seconds  = 20
  message_retention_seconds  = 345600
  kms_master_key_id          = var.kms_key_arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = each.value.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  for_each  = var.subscriptions
  queue_url = aws_sqs_queue.dlq[each.key].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this[each.key].arn]
  })
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each       = var.subscriptions
  name           = "${var.resource_prefix}${each.key}-subscriptions"
  description    = "Events ${each.key} consumes"
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = each.value.event_pattern
}

resource "aws_cloudwatch_event_target" "this" {
  for_each       = var.subscriptions
  rule           = aws_cloudwatch_event_rule.this[each.key].name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  target_id      = "queue"
  arn            = aws_sqs_queue.this[each.key].arn
}

data "aws_iam_policy_document" "queue" {
  for_each = var.subscriptions
  statement {
    sid       = "FromItsRuleOnly"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this[each.key].arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.this[each.key].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "this" {
  for_each  = var.subscriptions
  queue_url = aws_sqs_queue.this[each.key].id
  policy    = data.aws_iam_policy_document.queue[each.key].json
}

output "bus_arn" {
  value = aws_cloudwatch_event_bus.this.arn
}

output "bus_name" {
  value = aws_cloudwatch_event_bus.this.name
}

output "queue_arns" {
  value = { for name, queue in aws_sqs_queue.this : name => queue.arn }
}

output "queue_names" {
  value = { for name, queue in aws_sqs_queue.this : name => queue.name }
}

output "dlq_arns" {
  value = { for name, queue in aws_sqs_queue.dlq : name => queue.arn }
}

output "dlq_names" {
  value = { for name, queue in aws_sqs_queue.dlq : name => queue.name }
}
