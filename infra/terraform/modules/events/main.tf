# The event bus (<prefix>mindlinks), an archive of everything published on it,
# and per service with a queue its SQS queue, with a dead-letter queue and SQS
# redrive as the safety net (the consumer dead-letters a failing message
# itself at max_receives), fed by one rule selecting the detail-types it
# consumes (if any). Services with timers: the schedule group <prefix>timers,
# where their tasks create one-time schedules, and the role EventBridge
# Scheduler assumes to send each firing to its service's queue (ADR 0011).
variable "name" {
  description = "The environment's name (roles are named <name>-…)."
  type        = string
}

variable "resource_prefix" {
  type = string
}

variable "bus" {
  description = "Logical bus name (generated: mindlinks)."
  type        = string
}

variable "subscriptions" {
  description = "Services with a queue (generated): service => event pattern (null: consumes none), SQS maxReceiveCount, whether its timers fire there."
  type = map(object({
    event_pattern     = string
    max_receive_count = number
    timers            = bool
  }))
}

locals {
  consumers    = { for name, queue in var.subscriptions : name => queue if queue.event_pattern != null }
  timer_queues = toset([for name, queue in var.subscriptions : name if queue.timers])
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
  for_each       = local.consumers
  name           = "${var.resource_prefix}${each.key}-subscriptions"
  description    = "Events ${each.key} consumes"
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = each.value.event_pattern
}

resource "aws_cloudwatch_event_target" "this" {
  for_each       = local.consumers
  rule           = aws_cloudwatch_event_rule.this[each.key].name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  target_id      = "queue"
  arn            = aws_sqs_queue.this[each.key].arn
}

data "aws_iam_policy_document" "queue" {
  for_each = local.consumers
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
  for_each  = local.consumers
  queue_url = aws_sqs_queue.this[each.key].id
  policy    = data.aws_iam_policy_document.queue[each.key].json
}

data "aws_caller_identity" "current" {}

resource "aws_scheduler_schedule_group" "timers" {
  count = length(local.timer_queues) > 0 ? 1 : 0
  name  = "${var.resource_prefix}timers"
}

data "aws_iam_policy_document" "scheduler_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "timers" {
  count              = length(local.timer_queues) > 0 ? 1 : 0
  name               = "${var.name}-timers"
  description        = "EventBridge Scheduler: sends each timer's firing to its service's queue"
  assume_role_policy = data.aws_iam_policy_document.scheduler_trust.json
}

data "aws_iam_policy_document" "timers" {
  count = length(local.timer_queues) > 0 ? 1 : 0
  statement {
    sid       = "SendFiringsToTimerQueues"
    actions   = ["sqs:SendMessage"]
    resources = [for name in local.timer_queues : aws_sqs_queue.this[name].arn]
  }
  statement {
    sid       = "EncryptForTheQueues"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "timers" {
  count  = length(local.timer_queues) > 0 ? 1 : 0
  name   = "send-timer-firings"
  role   = aws_iam_role.timers[0].id
  policy = data.aws_iam_policy_document.timers[0].json
}

output "timers_role_arn" {
  description = "The role a service passes to EventBridge Scheduler (null when no service has timers)."
  value       = one(aws_iam_role.timers[*].arn)
}

output "schedule_group_name" {
  value = one(aws_scheduler_schedule_group.timers[*].name)
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
