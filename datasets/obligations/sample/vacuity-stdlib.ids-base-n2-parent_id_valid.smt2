; benchmark generated from python API
(set-info :status unknown)
(declare-fun s0.kind () Int)
(declare-fun s0.kind_index () Int)
(declare-fun s0.name () Int)
(declare-fun s0.status () Int)
(declare-fun s0.status_message () Int)
(declare-fun s0.service () Int)
(declare-fun s0.scope () Int)
(declare-fun s0.trace_state () Int)
(declare-fun s0.start () Int)
(declare-fun s0.end () Int)
(declare-fun s0.has_end () Bool)
(declare-fun s0.flags () Int)
(declare-fun s0.depth () Int)
(declare-fun s0.parent () Int)
(declare-fun s1.depth () Int)
(declare-fun s1.act () Bool)
(declare-fun s1.kind () Int)
(declare-fun s1.kind_index () Int)
(declare-fun s1.name () Int)
(declare-fun s1.status () Int)
(declare-fun s1.status_message () Int)
(declare-fun s1.service () Int)
(declare-fun s1.scope () Int)
(declare-fun s1.trace_state () Int)
(declare-fun s1.start () Int)
(declare-fun s1.end () Int)
(declare-fun s1.has_end () Bool)
(declare-fun s1.flags () Int)
(declare-fun s1.parent () Int)
(assert
 (let (($t0 (= s0.kind 5)))
 (let (($t1 (= s0.kind 9)))
 (let (($t2 (= s0.kind 4)))
 (let (($t3 (= s0.kind 10)))
 (let (($t4 (= s0.kind 7)))
 (let (($t5 (= s0.kind 12)))
 (or $t5 $t4 $t3 $t2 $t1 $t0))))))))
(assert
 (let (($t0 (= s0.kind 5)))
 (let (($t6 (= s0.kind_index 5)))
 (let (($t7 (= $t6 $t0)))
 (let (($t1 (= s0.kind 9)))
 (let (($t8 (= s0.kind_index 4)))
 (let (($t9 (= $t8 $t1)))
 (let (($t2 (= s0.kind 4)))
 (let (($t10 (= s0.kind_index 3)))
 (let (($t11 (= $t10 $t2)))
 (let (($t3 (= s0.kind 10)))
 (let (($t12 (= s0.kind_index 2)))
 (let (($t13 (= $t12 $t3)))
 (let (($t4 (= s0.kind 7)))
 (let (($t14 (= s0.kind_index 1)))
 (let (($t15 (= $t14 $t4)))
 (let (($t5 (= s0.kind 12)))
 (let (($t16 (= s0.kind_index 0)))
 (let (($t17 (= $t16 $t5)))
 (and $t17 $t15 $t13 $t11 $t9 $t7))))))))))))))))))))
(assert
 (let (($t18 (>= s0.name 0)))
 (and $t18 (< s0.name 17))))
(assert
 (let (($t19 (= s0.status 6)))
 (let (($t20 (= s0.status 8)))
 (let (($t21 (= s0.status 11)))
 (or $t21 $t20 $t19)))))
(assert
 (let (($t22 (>= s0.status_message 0)))
 (and $t22 (< s0.status_message 17))))
(assert
 (let (($t23 (>= s0.service 0)))
 (and $t23 (< s0.service 17))))
(assert
 (let (($t24 (>= s0.scope 0)))
 (and $t24 (< s0.scope 17))))
(assert
 (let (($t25 (>= s0.trace_state 0)))
 (and $t25 (< s0.trace_state 17))))
(assert
 (>= s0.start 1700000000000000000))
(assert
 (<= s0.start 5000000000000000000))
(assert
 (<= s0.end 5000000000000000000))
(assert
 (=> s0.has_end (>= s0.end s0.start)))
(assert
 (let (($t26 (= s0.end s0.start)))
 (let (($t27 (not s0.has_end)))
 (=> $t27 $t26))))
(assert
 (>= s0.flags 0))
(assert
 (< s0.flags 4294967296))
(assert
 (>= s0.depth 0))
(assert
 (let (($t28 (= s0.parent 1)))
 (let (($t29 (= s0.parent (- 1))))
 (or $t29 (= s0.parent (- 2)) $t28))))
(assert
 (let (($t28 (= s0.parent 1)))
 (=> $t28 (and s1.act (= s0.depth (+ s1.depth 1))))))
(assert
 (let (($t30 (= s0.depth 0)))
 (=> (< s0.parent 0) $t30)))
(assert
 (let (($t31 (= s1.kind 5)))
 (let (($t32 (= s1.kind 9)))
 (let (($t33 (= s1.kind 4)))
 (let (($t34 (= s1.kind 10)))
 (let (($t35 (= s1.kind 7)))
 (let (($t36 (= s1.kind 12)))
 (or $t36 $t35 $t34 $t33 $t32 $t31))))))))
(assert
 (let (($t31 (= s1.kind 5)))
 (let (($t37 (= s1.kind_index 5)))
 (let (($t38 (= $t37 $t31)))
 (let (($t32 (= s1.kind 9)))
 (let (($t39 (= s1.kind_index 4)))
 (let (($t40 (= $t39 $t32)))
 (let (($t33 (= s1.kind 4)))
 (let (($t41 (= s1.kind_index 3)))
 (let (($t42 (= $t41 $t33)))
 (let (($t34 (= s1.kind 10)))
 (let (($t43 (= s1.kind_index 2)))
 (let (($t44 (= $t43 $t34)))
 (let (($t35 (= s1.kind 7)))
 (let (($t45 (= s1.kind_index 1)))
 (let (($t46 (= $t45 $t35)))
 (let (($t36 (= s1.kind 12)))
 (let (($t47 (= s1.kind_index 0)))
 (let (($t48 (= $t47 $t36)))
 (and $t48 $t46 $t44 $t42 $t40 $t38))))))))))))))))))))
(assert
 (let (($t49 (>= s1.name 0)))
 (and $t49 (< s1.name 17))))
(assert
 (let (($t50 (= s1.status 6)))
 (let (($t51 (= s1.status 8)))
 (let (($t52 (= s1.status 11)))
 (or $t52 $t51 $t50)))))
(assert
 (let (($t53 (>= s1.status_message 0)))
 (and $t53 (< s1.status_message 17))))
(assert
 (let (($t54 (>= s1.service 0)))
 (and $t54 (< s1.service 17))))
(assert
 (let (($t55 (>= s1.scope 0)))
 (and $t55 (< s1.scope 17))))
(assert
 (let (($t56 (>= s1.trace_state 0)))
 (and $t56 (< s1.trace_state 17))))
(assert
 (>= s1.start 1700000000000000000))
(assert
 (<= s1.start 5000000000000000000))
(assert
 (<= s1.end 5000000000000000000))
(assert
 (=> s1.has_end (>= s1.end s1.start)))
(assert
 (let (($t57 (= s1.end s1.start)))
 (let (($t58 (not s1.has_end)))
 (=> $t58 $t57))))
(assert
 (>= s1.flags 0))
(assert
 (< s1.flags 4294967296))
(assert
 (>= s1.depth 0))
(assert
 (let (($t59 (= s1.parent 0)))
 (let (($t60 (= s1.parent (- 1))))
 (or $t60 (= s1.parent (- 2)) $t59))))
(assert
 (let (($t59 (= s1.parent 0)))
 (=> $t59 (and true (= s1.depth (+ s0.depth 1))))))
(assert
 (let (($t61 (= s1.depth 0)))
 (=> (< s1.parent 0) $t61)))
(assert
 (=> s1.act true))
(assert
 (=> s1.act (<= s0.start s1.start)))
(assert
 (let (($t60 (= s1.parent (- 1))))
(let (($t62 (not $t60)))
(let (($t63 (and s1.act $t62)))
(let (($t29 (= s0.parent (- 1))))
(let (($t64 (not $t29)))
(or $t64 $t63)))))))
(check-sat)
