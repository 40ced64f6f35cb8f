// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Owned} from "./Owned.sol";
import {IController, IRoundsManager, IBondingManager} from "./Interfaces.sol";

/// @notice Probabilistic micropayment settlement: senders lock a deposit and
/// a reserve, recipients redeem winning tickets against them. The ABI,
/// events and rules follow shared/PROTOCOL.md so the redeemer can be tested
/// against it as it would run against the real protocol.
contract TicketBroker is Owned {
    struct Ticket {
        address recipient;
        address sender;
        uint256 faceValue;
        uint256 winProb;
        uint256 senderNonce;
        bytes32 recipientRandHash;
        bytes auxData;
    }

    struct Sender {
        uint256 deposit;
        uint256 withdrawRound;
    }

    struct ReserveInfo {
        uint256 fundsRemaining;
        uint256 claimedInCurrentRound;
    }

    // Upper bound for s in a signature: larger values are the malleable twin
    // of a valid signature and would give one ticket two distinct encodings.
    uint256 private constant SECP256K1_HALF_N =
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    bytes32 private constant ROUNDS_MANAGER_ID = keccak256("RoundsManager");
    bytes32 private constant BONDING_MANAGER_ID = keccak256("BondingManager");

    IController public immutable controller;

    uint256 public ticketValidityPeriod = 2;
    uint256 public unlockPeriod = 2;

    mapping(bytes32 => bool) public usedTickets;

    mapping(address => Sender) private senders;
    mapping(address => uint256) private reserveFunds;
    // Claims are keyed by round so that they reset at each new round without
    // having to touch storage when the round changes.
    mapping(address => mapping(uint256 => uint256)) private claimedInRound;
    mapping(address => mapping(uint256 => mapping(address => uint256))) private claimedByInRound;

    event DepositFunded(address indexed sender, uint256 amount);
    event ReserveFunded(address indexed reserveHolder, uint256 amount);
    event ReserveClaimed(address indexed reserveHolder, address claimant, uint256 amount);
    event Unlock(address indexed sender, uint256 startRound, uint256 endRound);
    event UnlockCancelled(address indexed sender);
    event WinningTicketRedeemed(
        address indexed sender,
        address indexed recipient,
        uint256 faceValue,
        uint256 winProb,
        uint256 senderNonce,
        uint256 recipientRand,
        bytes auxData
    );
    event WinningTicketTransfer(address indexed sender, address indexed recipient, uint256 amount);
    event Withdrawal(address indexed sender, uint256 deposit, uint256 reserve);

    constructor(address controllerAddress) {
        require(controllerAddress != address(0), "controller is zero");
        controller = IController(controllerAddress);
    }

    // ---- owner hooks ----

    function setTicketValidityPeriod(uint256 period) external onlyOwner {
        require(period > 0, "validity period must be positive");
        ticketValidityPeriod = period;
    }

    function setUnlockPeriod(uint256 period) external onlyOwner {
        unlockPeriod = period;
    }

    // ---- funding ----

    function fundDeposit() external payable {
        senders[msg.sender].deposit += msg.value;
        emit DepositFunded(msg.sender, msg.value);
    }

    function fundReserve() external payable {
        reserveFunds[msg.sender] += msg.value;
        emit ReserveFunded(msg.sender, msg.value);
    }

    function fundDepositAndReserve(uint256 depositAmount, uint256 reserveAmount) external payable {
        require(msg.value == depositAmount + reserveAmount, "msg.value does not equal deposit + reserve");
        senders[msg.sender].deposit += depositAmount;
        reserveFunds[msg.sender] += reserveAmount;
        emit DepositFunded(msg.sender, depositAmount);
        emit ReserveFunded(msg.sender, reserveAmount);
    }

    // ---- unlock and withdrawal ----

    function unlock() external {
        Sender storage s = senders[msg.sender];
        require(s.deposit > 0 || reserveFunds[msg.sender] > 0, "sender deposit and reserve are zero");
        require(s.withdrawRound == 0, "unlock already in progress");
        uint256 round = rounds().currentRound();
        s.withdrawRound = round + unlockPeriod;
        emit Unlock(msg.sender, round, s.withdrawRound);
    }

    function cancelUnlock() external {
        Sender storage s = senders[msg.sender];
        require(s.withdrawRound != 0, "no unlock in progress");
        s.withdrawRound = 0;
        emit UnlockCancelled(msg.sender);
    }

    function withdraw() external {
        Sender storage s = senders[msg.sender];
        uint256 deposit = s.deposit;
        uint256 reserve = reserveFunds[msg.sender];
        require(deposit > 0 || reserve > 0, "sender deposit and reserve are zero");
        require(s.withdrawRound != 0, "no unlock in progress");
        require(s.withdrawRound <= rounds().currentRound(), "unlock period has not ended");

        s.deposit = 0;
        s.withdrawRound = 0;
        reserveFunds[msg.sender] = 0;
        emit Withdrawal(msg.sender, deposit, reserve);

        (bool ok,) = payable(msg.sender).call{value: deposit + reserve}("");
        require(ok, "withdrawal transfer failed");
    }

    function isUnlockInProgress(address sender) public view returns (bool) {
        return senders[sender].withdrawRound != 0;
    }

    // ---- views ----

    function getSenderInfo(address sender) external view returns (Sender memory info, ReserveInfo memory reserve) {
        info = senders[sender];
        reserve.fundsRemaining = reserveFunds[sender];
        reserve.claimedInCurrentRound = claimedInRound[sender][rounds().currentRound()];
    }

    function claimedReserve(address reserveHolder, address claimant) external view returns (uint256) {
        return claimedByInRound[reserveHolder][rounds().currentRound()][claimant];
    }

    function claimableReserve(address reserveHolder, address claimant) public view returns (uint256) {
        IBondingManager bonding = bondingManager();
        if (!bonding.isActiveTranscoder(claimant)) {
            return 0;
        }
        uint256 poolSize = bonding.getTranscoderPoolSize();
        if (poolSize == 0) {
            return 0;
        }
        uint256 round = rounds().currentRound();
        uint256 allocation = (reserveFunds[reserveHolder] + claimedInRound[reserveHolder][round]) / poolSize;
        uint256 claimed = claimedByInRound[reserveHolder][round][claimant];
        // A pool that grew mid-round can leave a claimant above its new share.
        return allocation > claimed ? allocation - claimed : 0;
    }

    function getTicketHash(Ticket memory ticket) public pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                ticket.recipient,
                ticket.sender,
                ticket.faceValue,
                ticket.winProb,
                ticket.senderNonce,
                ticket.recipientRandHash,
                ticket.auxData
            )
        );
    }

    // ---- redemption ----

    function redeemWinningTicket(Ticket calldata ticket, bytes calldata sig, uint256 recipientRand) external {
        require(ticket.recipient != address(0), "ticket recipient is zero");
        require(ticket.sender != address(0), "ticket sender is zero");

        IRoundsManager rm = rounds();
        require(rm.currentRoundInitialized(), "current round is not initialized");
        requireValidCreationRound(rm, ticket.auxData);

        bytes32 ticketHash = getTicketHash(ticket);
        require(!usedTickets[ticketHash], "ticket is used");
        require(keccak256(abi.encodePacked(recipientRand)) == ticket.recipientRandHash, "recipientRand does not match recipientRandHash");
        requireValidSignature(ticketHash, sig, ticket.sender);
        require(uint256(keccak256(abi.encodePacked(sig, recipientRand))) < ticket.winProb, "ticket did not win");
        require(bondingManager().isActiveTranscoder(ticket.recipient), "recipient is not an active transcoder");

        Sender storage s = senders[ticket.sender];
        require(s.deposit > 0 || reserveFunds[ticket.sender] > 0, "sender deposit and reserve are zero");

        usedTickets[ticketHash] = true;

        uint256 paid;
        if (ticket.faceValue <= s.deposit) {
            paid = ticket.faceValue;
            s.deposit -= ticket.faceValue;
        } else {
            uint256 fromDeposit = s.deposit;
            s.deposit = 0;
            paid = fromDeposit + claimFromReserve(ticket.sender, ticket.recipient, ticket.faceValue - fromDeposit, rm.currentRound());
        }

        if (paid > 0) {
            emit WinningTicketTransfer(ticket.sender, ticket.recipient, paid);
        }
        emit WinningTicketRedeemed(
            ticket.sender,
            ticket.recipient,
            ticket.faceValue,
            ticket.winProb,
            ticket.senderNonce,
            recipientRand,
            ticket.auxData
        );

        if (paid > 0) {
            (bool ok,) = payable(ticket.recipient).call{value: paid}("");
            require(ok, "transfer to recipient failed");
        }
    }

    /// @notice Redeems each ticket independently: one that fails (already
    /// used, stale, ...) is skipped so it cannot block the others in the batch.
    function batchRedeemWinningTickets(Ticket[] calldata tickets, bytes[] calldata sigs, uint256[] calldata recipientRands)
        external
    {
        require(tickets.length == sigs.length && tickets.length == recipientRands.length, "array lengths differ");
        for (uint256 i = 0; i < tickets.length; i++) {
            uint256 gasBefore = gasleft();
            // The external self-call gives each ticket its own revert scope.
            try this.redeemWinningTicket(tickets[i], sigs[i], recipientRands[i]) {}
            catch {
                // An inner call that ran out of gas leaves at most 1/64 of the
                // gas behind. Skipping it would let the batch succeed with too
                // little gas, so gas estimation would settle on a limit that
                // silently drops valid tickets; reverting makes it search higher.
                require(gasleft() > gasBefore / 64, "batch ran out of gas");
            }
        }
    }

    function claimFromReserve(address holder, address claimant, uint256 amount, uint256 round) private returns (uint256) {
        uint256 funds = reserveFunds[holder];
        uint256 claim = claimableReserve(holder, claimant);
        if (claim > amount) {
            claim = amount;
        }
        // The allocation formula can exceed what is left after a pool shrink.
        if (claim > funds) {
            claim = funds;
        }
        if (claim == 0) {
            return 0;
        }
        reserveFunds[holder] = funds - claim;
        claimedInRound[holder][round] += claim;
        claimedByInRound[holder][round][claimant] += claim;
        emit ReserveClaimed(holder, claimant, claim);
        return claim;
    }

    function requireValidCreationRound(IRoundsManager rm, bytes calldata auxData) private view {
        require(auxData.length == 64, "auxData must be 64 bytes");
        (uint256 creationRound, bytes32 creationRoundBlockHash) = abi.decode(auxData, (uint256, bytes32));
        require(creationRound + ticketValidityPeriod > rm.currentRound(), "ticket is expired");
        bytes32 expected = rm.blockHashForRound(creationRound);
        require(expected != bytes32(0), "creation round is not initialized");
        require(expected == creationRoundBlockHash, "creationRoundBlockHash is invalid for creationRound");
    }

    function requireValidSignature(bytes32 ticketHash, bytes calldata sig, address signer) private pure {
        require(sig.length == 65, "signature must be 65 bytes");
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        require(v == 27 || v == 28, "signature v must be 27 or 28");
        require(uint256(s) <= SECP256K1_HALF_N, "signature s is not in the lower half order");
        bytes32 digest = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", ticketHash));
        address recovered = ecrecover(digest, v, r, s);
        require(recovered != address(0) && recovered == signer, "invalid signature over ticket hash");
    }

    function rounds() private view returns (IRoundsManager) {
        return IRoundsManager(controller.getContract(ROUNDS_MANAGER_ID));
    }

    function bondingManager() private view returns (IBondingManager) {
        return IBondingManager(controller.getContract(BONDING_MANAGER_ID));
    }
}
